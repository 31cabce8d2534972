"""Training samples: (frame0, frame1, frame_t, t) crops from real clips and from synthetic motion.

Real clips give real motion, blur and noise: keep frames i and i+k, the target is frame
i+j at t = j/k. Synthetic scenes (photos moved along random smooth, accelerating,
rotating, zooming trajectories, with occluding layers) give exact targets at any t and
motions larger than the clips have.

A sample also carries the frames one interval before and after its pair (i-k and i+2k)
when they exist: along a video the motion search of a pair starts from the motion of the
pair before it (`dis.VideoFlow`), and a model must learn on the seeds it will be given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import cv2
import numpy as np
import torch

from vfi.motion.scale import working_downscale
from vfi.training.synthetic import Layer, Motion, Scene, random_texture
from vfi.io.decode import FrameReader
from vfi.io.probe import probe

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class Sample:
    frame0: np.ndarray  # (h, w, 3) uint8
    frame1: np.ndarray
    target: np.ndarray
    t: float
    before: Optional[np.ndarray] = None  # frame0's predecessor, as far from it as frame1 is: None at a clip's start
    after: Optional[np.ndarray] = None  # frame1's successor, likewise (time reversal makes it the one before)

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> "Sample":
        """The same sample with every frame passed through `fn` (crops, flips, resizes)."""
        opt = lambda f: None if f is None else fn(f)
        return Sample(fn(self.frame0), fn(self.frame1), fn(self.target), self.t, opt(self.before), opt(self.after))

    def alone(self) -> "Sample":
        """The pair without its neighbours: seeded from rest, as the first pair of a video or shot is."""
        return replace(self, before=None, after=None)


class ClipWindows:
    """Frames of one clip held in memory (at most `max_frames`), sampled as windows of k + 1 frames.

    With `holdout_every` > 0 the clip is cut into chunks and every n-th chunk is kept for
    validation: no training window touches a validation frame. With `work_side`, training
    crops come from frames shrunk as the model shrinks them before estimating motion (a
    1280x720 clip is seen at 640x360), so the model learns motion at the scale it meets it.
    A `validation_only` clip gives validation windows only: a scene training never saw.
    `decode(path, max_frames)` replaces the ffmpeg decoder (a machine without ffmpeg can use OpenCV's).
    """

    def __init__(self, path: str | Path, max_frames: int = 400, strides: Sequence[int] = (2, 4, 8),
                 holdout_every: int = 0, work_side: int | None = None, validation_only: bool = False,
                 decode: Optional[Callable[[Path, int], list]] = None):
        self.path = Path(path)
        if decode is None:
            self.frames = list(FrameReader(probe(path), max_frames=max_frames))
        else:
            self.frames = list(decode(self.path, max_frames))
        n = len(self.frames)
        h, w = self.frames[0].shape[:2] if n else (0, 0)
        self.shrink = working_downscale(h, w, work_side) if work_side and n else 1
        self.strides = [k for k in strides if k < n]
        if not self.strides:
            raise ValueError(f"{path}: {n} frame(s) are too few for a window of {min(strides)} frames apart")
        self.is_val = np.zeros(n, bool)
        self._starts: dict[int, list[int]] = {}
        chunk = max(4 * max(self.strides) + 1, 9)
        chunks = n // chunk
        if holdout_every and chunks >= 2:
            for c in range(chunks):
                if c % holdout_every == holdout_every - 1 or (chunks < holdout_every and c == chunks - 1):
                    self.is_val[c * chunk:(c + 1) * chunk] = True
        if validation_only:
            self.is_val[:] = True
        self.strides = [k for k in self.strides if self.train_starts(k)] or self.strides

    def train_starts(self, k: int) -> list[int]:
        if k not in self._starts:
            self._starts[k] = [i for i in range(len(self.frames) - k) if not self.is_val[i:i + k + 1].any()]
        return self._starts[k]

    def val_windows(self, k: int) -> list[tuple[int, int]]:
        """(start, j) for every validation window of stride k and every frame inside it."""
        starts = [i for i in range(0, len(self.frames) - k, k) if self.is_val[i:i + k + 1].all()]
        return [(i, j) for i in starts for j in range(1, k)]

    def window(self, start: int, k: int, j: int) -> Sample:
        """Frames start and start + k, the target start + j; neighbours only from the same side of the split."""
        def neighbour(i: int) -> Optional[np.ndarray]:
            inside = 0 <= i < len(self.frames) and self.is_val[i] == self.is_val[start]
            return self.frames[i] if inside else None
        return Sample(self.frames[start], self.frames[start + k], self.frames[start + j], j / k,
                      neighbour(start - k), neighbour(start + 2 * k))

    def sample(self, rng: np.random.Generator, crop: int, neighbours: bool = True) -> Sample:
        """A random training crop; without `neighbours` the outer frames are dropped before any work on them."""
        k = int(rng.choice(self.strides))
        starts = self.train_starts(k)
        i = starts[int(rng.integers(len(starts)))]
        s = self.window(i, k, int(rng.integers(1, k)))
        return random_crop(shrink_sample(s if neighbours else s.alone(), self.shrink), crop, rng)

    @property
    def seen_size(self) -> tuple[int, int]:
        """(h, w) of the frames training crops are cut from."""
        h, w = self.frames[0].shape[:2]
        return h // self.shrink, w // self.shrink


def shrink_sample(s: Sample, factor: int) -> Sample:
    """All three frames made `factor` times smaller (area filter), as a seeded model shrinks big frames."""
    if factor == 1:
        return s
    h, w = s.frame0.shape[0] // factor, s.frame0.shape[1] // factor
    return s.map(lambda f: cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA))


def random_crop(s: Sample, crop: int, rng: np.random.Generator) -> Sample:
    h, w = s.frame0.shape[:2]
    ch, cw = min(crop, h), min(crop, w)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = s.map(lambda f: f[y:y + ch, x:x + cw])
    if (ch, cw) != (crop, crop):  # small clips: scale up to the crop size
        out = out.map(lambda f: cv2.resize(f, (crop, crop), interpolation=cv2.INTER_LINEAR))
    return out


def augment(s: Sample, rng: np.random.Generator) -> Sample:
    """Flips, transposes and time reversal: motion statistics are symmetric under all of them."""
    if rng.random() < 0.5:
        s = s.map(lambda f: f[:, ::-1])
    if rng.random() < 0.5:
        s = s.map(lambda f: f[::-1])
    if rng.random() < 0.5:
        s = s.map(lambda f: f.transpose(1, 0, 2))
    if rng.random() < 0.5:
        s = Sample(s.frame1, s.frame0, s.target, 1 - s.t, s.after, s.before)
    if rng.random() < 0.5:
        perm = rng.permutation(3)
        s = s.map(lambda f: f[..., perm])
    return s.map(np.ascontiguousarray)


def load_photos(folder: str | Path, max_side: int = 1024, limit: int = 200) -> list[np.ndarray]:
    photos = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() not in PHOTO_SUFFIXES:
            continue
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None or min(img.shape[:2]) < 256:
            continue
        s = max_side / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        photos.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        if len(photos) >= limit:
            break
    return photos


class SyntheticMotion:
    """Random scenes built from photos (or procedural texture) with exact frames at any t."""

    def __init__(self, photos: Sequence[np.ndarray] = (), max_speed: float = 24.0):
        self.photos = list(photos)
        self.max_speed = max_speed

    def _texture(self, rng, h: int, w: int) -> np.ndarray:
        if not self.photos or rng.random() < 0.15:
            return random_texture(h, w, rng)
        photo = self.photos[int(rng.integers(len(self.photos)))]
        ph, pw = photo.shape[:2]
        scale = rng.uniform(0.5, 1.0) * min(ph / h, pw / w)
        ch, cw = max(8, int(h * scale)), max(8, int(w * scale))
        y, x = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
        return cv2.resize(photo[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_AREA)

    def _motion(self, rng, speed: float, p0=(0.0, 0.0), bounce=None) -> Motion:
        angle = rng.uniform(0, 2 * math.pi)
        v = (speed * math.cos(angle), speed * math.sin(angle))
        a = tuple(rng.normal(0, 0.3 * speed + 0.5, 2)) if rng.random() < 0.5 else (0.0, 0.0)
        spin = rng.normal(0, 2.0) if rng.random() < 0.3 else 0.0
        zoom = rng.normal(0, 0.04) if rng.random() < 0.3 else 0.0
        return Motion(p0, v, a, 0.0, spin, zoom, bounce)

    def sample(self, rng: np.random.Generator, crop: int, neighbours: bool = True) -> Sample:
        """`neighbours`: also render the frames at t = -1 and t = 2 (for seeds chained as along a video)."""
        margin = 0.5 + self.max_speed / crop
        bh = bw = int(crop * (1 + 2 * margin))
        speed = self.max_speed * rng.random() ** 1.5
        motion = self._motion(rng, speed, (-margin * crop, -margin * crop))
        layers = [Layer(self._texture(rng, bh, bw), motion, anchor=(bw / 2, bh / 2))]
        for _ in range(int(rng.integers(0, 3))):
            size = int(crop * rng.uniform(0.2, 0.6))
            img = self._texture(rng, size, size)
            alpha = np.zeros((size, size), np.uint8)
            pts = (rng.random((int(rng.integers(3, 8)), 2)) * size).astype(np.int32)
            cv2.fillPoly(alpha, [cv2.convexHull(pts)], 255, cv2.LINE_AA) if rng.random() < 0.5 else \
                cv2.circle(alpha, (size // 2, size // 2), size // 2 - 1, 255, -1, cv2.LINE_AA)
            p0 = (rng.uniform(-size / 2, crop - size / 2), rng.uniform(-size / 2, crop - size / 2))
            sprite_speed = self.max_speed * rng.random()
            layers.append(Layer(img, self._motion(rng, sprite_speed, p0), alpha.astype(np.float32) / 255))
        scene = Scene(crop, crop, layers)
        t = float(rng.uniform(0.05, 0.95))
        if rng.random() < 0.03:  # a still scene must stay still
            frame = scene.render(0.0)
            outer = (frame, frame) if neighbours else ()
            return Sample(frame, frame, frame, t, *outer)
        outer = (scene.render(-1.0), scene.render(2.0)) if neighbours else ()
        return Sample(scene.render(0.0), scene.render(1.0), scene.render(t), t, *outer)


def to_batch(samples: Sequence[Sample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """Stack samples into float tensors (B, 3, H, W), times (B, 1), and the uint8 pairs for seeding."""
    u0 = np.stack([s.frame0 for s in samples])
    u1 = np.stack([s.frame1 for s in samples])
    to_t = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float().div_(255)
    target = np.stack([s.target for s in samples])
    times = torch.tensor([[s.t] for s in samples], dtype=torch.float32)
    return to_t(u0), to_t(u1), to_t(target), times, u0, u1
