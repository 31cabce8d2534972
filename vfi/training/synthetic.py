"""Synthetic videos with exact ground truth at any time: layers moved by known motions.

A scene is a textured background and sprites, each following an analytic trajectory
(translation with velocity and acceleration, rotation, zoom, bouncing). Rendering the
scene at a fractional time gives the true in-between frame, so interpolators can be
scored exactly, and models trained, without any real footage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import cv2
import numpy as np


def random_texture(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Colourful multi-scale noise with shapes and strokes: texture at every scale for flow to lock on to."""
    img = np.zeros((h, w, 3), np.float32)
    for cell, weight in ((max(h, w) // 4, 0.5), (32, 0.3), (8, 0.2)):
        small = rng.random((max(2, h // cell + 2), max(2, w // cell + 2), 3)).astype(np.float32)
        img += weight * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img, 0, 1)
    out = (img * 255).astype(np.uint8)
    for _ in range(max(4, h * w // 4000)):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        size = int(rng.integers(3, max(4, min(h, w) // 6)))
        if kind == 0:
            cv2.circle(out, (x, y), size, color, -1, cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(out, (x, y), (x + size, y + size // 2 + 1), color, -1)
        else:
            x2, y2 = x + int(rng.integers(-size * 3, size * 3)), y + int(rng.integers(-size * 3, size * 3))
            cv2.line(out, (x, y), (x2, y2), color, int(rng.integers(1, 4)), cv2.LINE_AA)
    return out


@dataclass
class Motion:
    """Affine trajectory: position p(t) = p0 + v t + a t^2 / 2, angle and log-zoom linear in t.

    Times are in frame units. `bounce` reflects the position into [lo, hi] per axis (sprites
    that bounce off the borders, as in Moving MNIST).
    """

    p0: tuple[float, float] = (0.0, 0.0)
    v: tuple[float, float] = (0.0, 0.0)
    a: tuple[float, float] = (0.0, 0.0)
    angle0: float = 0.0
    spin: float = 0.0  # degrees per frame
    zoom_rate: float = 0.0  # log-scale per frame
    bounce: Optional[tuple[tuple[float, float], tuple[float, float]]] = None

    def position(self, t: float) -> tuple[float, float]:
        pos = [self.p0[i] + self.v[i] * t + 0.5 * self.a[i] * t * t for i in range(2)]
        if self.bounce is not None:
            for i in range(2):
                lo, hi = self.bounce[i]
                span = hi - lo
                if span > 0:
                    x = (pos[i] - lo) % (2 * span)
                    pos[i] = lo + (x if x <= span else 2 * span - x)
        return pos[0], pos[1]

    def matrix(self, t: float, anchor: tuple[float, float]) -> np.ndarray:
        """2x3 map from layer pixels to frame pixels: rotate/zoom about the anchor, then move."""
        scale = math.exp(self.zoom_rate * t)
        m = cv2.getRotationMatrix2D(anchor, self.angle0 + self.spin * t, scale)
        px, py = self.position(t)
        m[0, 2] += px
        m[1, 2] += py
        return m


@dataclass
class Layer:
    image: np.ndarray  # (h, w, 3) uint8
    motion: Motion
    alpha: Optional[np.ndarray] = None  # (h, w) float32 in [0, 1]; None = opaque everywhere
    anchor: Optional[tuple[float, float]] = None


@dataclass
class Scene:
    """Renders frames of size (height, width) at any real-valued time."""

    height: int
    width: int
    layers: list[Layer] = field(default_factory=list)
    background: tuple[int, int, int] = (0, 0, 0)

    def render(self, t: float) -> np.ndarray:
        frame = np.empty((self.height, self.width, 3), np.float32)
        frame[:] = np.float32(self.background)
        size = (self.width, self.height)
        for layer in self.layers:
            h, w = layer.image.shape[:2]
            anchor = layer.anchor or (w / 2, h / 2)
            m = layer.motion.matrix(t, anchor)
            color = cv2.warpAffine(layer.image, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            alpha = layer.alpha if layer.alpha is not None else np.ones((h, w), np.float32)
            a = cv2.warpAffine(alpha, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
            frame = frame * (1 - a) + color.astype(np.float32) * a
        return np.clip(frame + 0.5, 0, 255).astype(np.uint8)

    def clip(self, n: int, step: float = 1.0) -> list[np.ndarray]:
        return [self.render(i * step) for i in range(n)]


def _background(h: int, w: int, motion: Motion, rng: np.random.Generator, margin: float = 0.6,
                texture: Optional[np.ndarray] = None) -> Layer:
    """A texture larger than the frame so that its motion never uncovers an empty border."""
    bh, bw = int(h * (1 + 2 * margin)), int(w * (1 + 2 * margin))
    img = texture if texture is not None else random_texture(bh, bw, rng)
    img = cv2.resize(img, (bw, bh), interpolation=cv2.INTER_AREA) if img.shape[:2] != (bh, bw) else img
    offset = (motion.p0[0] - margin * w, motion.p0[1] - margin * h)
    moved = Motion(offset, motion.v, motion.a, motion.angle0, motion.spin, motion.zoom_rate)
    return Layer(img, moved, anchor=(bw / 2, bh / 2))


def _sprite(size: int, rng: np.random.Generator, shape: str = "disc") -> tuple[np.ndarray, np.ndarray]:
    img = random_texture(size, size, rng)
    alpha = np.zeros((size, size), np.float32)
    if shape == "disc":
        cv2.circle(alpha, (size // 2, size // 2), size // 2 - 1, 1.0, -1, cv2.LINE_AA)
    else:
        cv2.rectangle(alpha, (1, 1), (size - 2, size - 2), 1.0, -1)
    return img, alpha


def scene_translate(h: int, w: int, rng: np.random.Generator, speed: float = 4.0) -> Scene:
    angle = rng.uniform(0, 2 * math.pi)
    v = (speed * math.cos(angle), speed * math.sin(angle))
    return Scene(h, w, [_background(h, w, Motion(v=v), rng)])


def scene_rotate(h: int, w: int, rng: np.random.Generator, spin: float = 2.0) -> Scene:
    return Scene(h, w, [_background(h, w, Motion(spin=spin * rng.choice([-1, 1])), rng, margin=0.8)])


def scene_zoom(h: int, w: int, rng: np.random.Generator, rate: float = 0.03) -> Scene:
    return Scene(h, w, [_background(h, w, Motion(zoom_rate=rate * rng.choice([-1, 1])), rng)])


def scene_accelerate(h: int, w: int, rng: np.random.Generator) -> Scene:
    """Camera pan that speeds up: linear-motion interpolators misplace the in-between frames."""
    return Scene(h, w, [_background(h, w, Motion(v=(1.0, 0.5), a=(0.6, 0.2)), rng, margin=2.0)])


def scene_occlusion(h: int, w: int, rng: np.random.Generator) -> Scene:
    """Panning background with two textured sprites crossing it in other directions."""
    layers = [_background(h, w, Motion(v=(-2.0, 1.0)), rng)]
    for k in range(2):
        size = int(min(h, w) * 0.4)
        img, alpha = _sprite(size, rng, "disc" if k == 0 else "square")
        start = (rng.uniform(0, w - size), rng.uniform(0, h - size))
        motion = Motion(p0=start, v=(rng.uniform(3, 6) * (1 if k else -1), rng.uniform(-3, 3)), spin=rng.uniform(-3, 3),
                        bounce=((0, w - size), (0, h - size)))
        layers.append(Layer(img, motion, alpha))
    return Scene(h, w, layers)


def scene_digits(h: int, w: int, rng: np.random.Generator, count: int = 2) -> Scene:
    """Moving-MNIST-like: white digits bouncing off the borders of a black frame."""
    layers = []
    size = int(min(h, w) * 0.45)
    for _ in range(count):
        mask = np.zeros((size, size), np.uint8)
        digit = str(int(rng.integers(0, 10)))
        font_scale = size / 30.0
        (tw, th), _ = cv2.getTextSize(digit, cv2.FONT_HERSHEY_SIMPLEX, font_scale, max(2, size // 12))
        cv2.putText(mask, digit, ((size - tw) // 2, (size + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, font_scale, 255,
                    max(2, size // 12), cv2.LINE_AA)
        alpha = mask.astype(np.float32) / 255
        img = np.full((size, size, 3), 255, np.uint8)
        start = (rng.uniform(0, w - size), rng.uniform(0, h - size))
        angle = rng.uniform(0, 2 * math.pi)
        speed = rng.uniform(3, 6)
        motion = Motion(p0=start, v=(speed * math.cos(angle), speed * math.sin(angle)),
                        bounce=((0, w - size), (0, h - size)))
        layers.append(Layer(img, motion, alpha))
    return Scene(h, w, layers)


def scene_ball(h: int, w: int, rng: np.random.Generator) -> Scene:
    """A shaded ball falling under gravity in front of a static textured wall."""
    wall = Layer(random_texture(h, w, rng), Motion())
    size = int(min(h, w) * 0.25)
    img = np.zeros((size, size, 3), np.uint8)
    for r in range(size // 2, 0, -1):
        shade = 90 + int(160 * (1 - r / (size / 2)))
        cv2.circle(img, (size // 2 - size // 10, size // 2 - size // 10), r, (shade, shade // 3, shade // 4), -1, cv2.LINE_AA)
    alpha = np.zeros((size, size), np.float32)
    cv2.circle(alpha, (size // 2, size // 2), size // 2 - 1, 1.0, -1, cv2.LINE_AA)
    motion = Motion(p0=(rng.uniform(0, w - size), 0.0), v=(rng.uniform(-1, 1), 0.0), a=(0.0, 1.2),
                    bounce=((0, w - size), (0, h - size)))
    return Scene(h, w, [wall, Layer(img, motion, alpha)])


def fast_sprites(h: int, w: int, rng: np.random.Generator, photo: Optional[np.ndarray] = None) -> Scene:
    """Small objects moving far between frames (a tenth to a fifth of the frame per frame) over a slowly
    panning background: what DIS's pyramid never sees (a thrown ball, a cyclist). Not in `SCENES`,
    whose scenes the CI benchmark scores; the candidate selector trains on it."""
    layers = [_background(h, w, Motion(v=tuple(rng.uniform(-2, 2, 2))), rng, texture=photo)]
    for k in range(int(rng.integers(1, 4))):
        size = int(min(h, w) * rng.uniform(0.08, 0.18))
        img, alpha = _sprite(size, rng, "disc" if k % 2 == 0 else "square")
        speed, angle = rng.uniform(0.1, 0.2) * max(h, w), rng.uniform(0, 2 * math.pi)
        motion = Motion(p0=(rng.uniform(0, w - size), rng.uniform(0, h - size)),
                        v=(speed * math.cos(angle), speed * math.sin(angle)), spin=rng.uniform(-8, 8),
                        bounce=((0, w - size), (0, h - size)))
        layers.append(Layer(img, motion, alpha))
    return Scene(h, w, layers)


SCENES: dict[str, Callable[[int, int, np.random.Generator], Scene]] = {
    "translate": scene_translate,
    "rotate": scene_rotate,
    "zoom": scene_zoom,
    "accelerate": scene_accelerate,
    "occlusion": scene_occlusion,
    "digits": scene_digits,
    "ball": scene_ball,
}


def make_scene(name: str, h: int = 192, w: int = 256, seed: int = 0) -> Scene:
    return SCENES[name](h, w, np.random.default_rng(seed))
