"""Training batches of four-frame windows made on the training device: clips and synthetic motion.

A window is the frames i-k, i, i+k, i+2k and the target i+j (t = j/k). Clips are decoded
once and held on the device as uint8 tensors (`DeviceClips`); synthetic scenes are
rendered there (`device_scenes`); crops, flips, transposes, time reversal and colour
shifts are applied there too, batch at a time. A share of the outer frames is dropped (and
marked) so the model also learns the pairs at a clip's ends and at scene cuts. No CPU
worker and no DIS: the GPU is fed from its own memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import cv2
import numpy as np
import torch

from vfi.training.device_scenes import DeviceScenes
from vfi.training.samples import ClipWindows


@dataclass
class WindowBatch:
    before: torch.Tensor  # (B, 3, H, W) float in [0, 1]; a row without one holds frame0
    frame0: torch.Tensor
    frame1: torch.Tensor
    after: torch.Tensor  # a row without one holds frame1
    target: torch.Tensor
    times: torch.Tensor  # (B, 1)
    has_before: torch.Tensor  # (B,) bool
    has_after: torch.Tensor
    flows: Optional[torch.Tensor] = None  # (B, 4, H, W): the exact flows 0 -> 1 and 1 -> 0 where known, in pixels
    has_flows: Optional[torch.Tensor] = None  # (B,) bool: synthetic rows know them, clip rows do not

    @staticmethod
    def of(frames: torch.Tensor, t: torch.Tensor, has_before: torch.Tensor, has_after: torch.Tensor,
           flows: Optional[torch.Tensor] = None, has_flows: Optional[torch.Tensor] = None) -> "WindowBatch":
        """From (B, 5, 3, H, W) frames ordered before, frame0, frame1, after, target."""
        before = torch.where(has_before[:, None, None, None], frames[:, 0], frames[:, 1])
        after = torch.where(has_after[:, None, None, None], frames[:, 3], frames[:, 2])
        return WindowBatch(before, frames[:, 1], frames[:, 2], after, frames[:, 4], t[:, None], has_before, has_after,
                           flows, has_flows)


class DeviceClips:
    """The training frames of clips, shrunk as the model shrinks them, as uint8 tensors on the device."""

    def __init__(self, clips: Sequence[ClipWindows], device):
        self.clips = list(clips)
        self.frames = []
        for clip in self.clips:
            frames = clip.frames
            if clip.shrink > 1:
                h, w = clip.seen_size
                frames = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames]
            self.frames.append(torch.from_numpy(np.stack(frames)).to(device).permute(0, 3, 1, 2).contiguous())
        self.device = torch.device(device)

    def _window(self, c: int, rng: np.random.Generator) -> tuple[list[int], float, bool, bool]:
        clip = self.clips[c]
        k = int(rng.choice(clip.strides))
        starts = clip.train_starts(k)
        i = starts[int(rng.integers(len(starts)))]
        j = int(rng.integers(1, k))
        n = len(clip.frames)
        inside = lambda a, b: 0 <= a and b < n and not clip.is_val[a:b + 1].any()
        has_before, has_after = inside(i - k, i), inside(i + k, i + 2 * k)
        index = [i - k if has_before else i, i, i + k, i + 2 * k if has_after else i + k, i + j]
        return index, j / k, has_before, has_after

    def sample(self, rng: np.random.Generator, batch: int, crop: int):
        """(B, 5, 3, crop, crop) floats, t (B,), has_before, has_after (B,) bool."""
        out, ts, hb, ha = [], [], [], []
        for _ in range(batch):
            c = int(rng.integers(len(self.frames)))
            index, t, before, after = self._window(c, rng)
            frames = self.frames[c][index]
            h, w = frames.shape[-2:]
            ch, cw = min(crop, h), min(crop, w)
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            piece = frames[..., y:y + ch, x:x + cw].float().div_(255)
            if (ch, cw) != (crop, crop):  # small clips: scaled up to the crop
                piece = torch.nn.functional.interpolate(piece, size=(crop, crop), mode="bilinear", align_corners=False)
            out.append(piece)
            ts.append(t), hb.append(before), ha.append(after)
        flags = lambda v: torch.tensor(v, dtype=torch.bool, device=self.device)
        return torch.stack(out), torch.tensor(ts, device=self.device), flags(hb), flags(ha)


def augment_windows(frames: torch.Tensor, t: torch.Tensor, hb: torch.Tensor, ha: torch.Tensor, g: torch.Generator,
                    flows: Optional[torch.Tensor] = None):
    """Per-window flips, transposes, time reversal and colour shifts; motion statistics are symmetric under them.

    `flows` (B, 4, H, W), the pair's flows 0 -> 1 and 1 -> 0, are carried through the same moves.
    Returns frames, t, has_before, has_after and the flows (or None)."""
    b = frames.shape[0]
    dev = frames.device
    coin = lambda: (torch.rand(b, generator=g, device=dev) < 0.5)
    pick = lambda mask, a, b_: torch.where(mask.view(-1, *[1] * (a.ndim - 1)), a, b_)
    if flows is None:
        flows = torch.zeros(b, 4, *frames.shape[-2:], device=dev)
        known = False
    else:
        known = True
    x_sign = torch.tensor([-1.0, 1, -1, 1], device=dev).view(1, 4, 1, 1)
    flip = coin()
    frames, flows = pick(flip, frames.flip(-1), frames), pick(flip, flows.flip(-1) * x_sign, flows)
    flip = coin()
    frames, flows = pick(flip, frames.flip(-2), frames), pick(flip, flows.flip(-2) * -x_sign, flows)
    if frames.shape[-1] == frames.shape[-2]:
        swap = coin()
        frames = pick(swap, frames.transpose(-1, -2), frames)
        flows = pick(swap, flows.transpose(-1, -2)[:, [1, 0, 3, 2]], flows)
    reverse = coin()
    frames = pick(reverse, frames[:, [3, 2, 1, 0, 4]], frames)
    flows = pick(reverse, flows[:, [2, 3, 0, 1]], flows)
    t = torch.where(reverse, 1 - t, t)
    hb, ha = torch.where(reverse, ha, hb), torch.where(reverse, hb, ha)
    frames = frames[:, :, torch.randperm(3, generator=g, device=dev)]
    gain = 1 + 0.1 * torch.randn(b, 1, 3, 1, 1, generator=g, device=dev)
    offset = 0.04 * torch.randn(b, 1, 1, 1, 1, generator=g, device=dev)
    return (frames * gain + offset).clamp_(0, 1), t, hb, ha, (flows if known else None)


class WindowMix:
    """Clip windows and synthetic scenes in a fixed proportion, augmented, as `WindowBatch`es."""

    def __init__(self, clips: Optional[DeviceClips], scenes: Optional[DeviceScenes], synthetic_fraction: float,
                 crop: int, drop_outer: float = 0.1):
        self.clips, self.scenes = clips, scenes
        self.synthetic_fraction = synthetic_fraction if clips is not None else 1.0
        self.crop = crop
        self.drop_outer = drop_outer

    def batch(self, rng: np.random.Generator, g: torch.Generator, size: int) -> WindowBatch:
        n_synth = 0 if self.scenes is None else int(rng.binomial(size, self.synthetic_fraction))
        parts = []
        if size - n_synth:
            frames, t, hb, ha = self.clips.sample(rng, size - n_synth, self.crop)
            unknown = torch.zeros(size - n_synth, dtype=torch.bool, device=frames.device)
            parts.append((frames, t, hb, ha, torch.zeros(len(t), 4, *frames.shape[-2:], device=frames.device), unknown))
        if n_synth:
            dev = self.scenes.device
            t = 0.05 + 0.9 * torch.rand(n_synth, generator=g, device=dev)
            frames, flows = self.scenes.render(g, n_synth, self.crop, t)
            full = torch.ones(n_synth, dtype=torch.bool, device=dev)
            parts.append((frames, t, full, full.clone(), flows, full.clone()))
        frames, t, hb, ha, flows, known = (torch.cat(x) for x in zip(*parts))
        frames, t, hb, ha, flows = augment_windows(frames, t, hb, ha, g, flows)
        keep = lambda: torch.rand(size, generator=g, device=frames.device) >= self.drop_outer
        return WindowBatch.of(frames, t, hb & keep(), ha & keep(), flows, known)
