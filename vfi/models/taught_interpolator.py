"""The taught motion as an interpolator: DIS flows as `flow` computes them, corrected by the student
(`vfi.models.taught`) at the working size for every t of a pair in one solve, then both full-size
frames warped along the flows and mixed by its mask, in OpenCV as `flow` does."""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vfi.core.interface import Capabilities, Interpolator
from vfi.core.pixels import rgb8
from vfi.models.taught import GRID, TaughtMotionNet
from vfi.motion.compose import warp_and_mix
from vfi.motion.dis import VideoFlow
from vfi.motion.resample import pixel_grid
from vfi.motion.scale import FLOW_MAX_SIDE, working_size

Plan = tuple[np.ndarray, np.ndarray, np.ndarray]  # sampling maps into frames 0 and 1, frame 0's weight


class TaughtInterpolator(Interpolator):
    description = "DIS motion corrected by a student of RIFE 4.25's intermediate flows, solved as an ODE in t"
    capabilities = Capabilities(min_side=32, light_full_size=True, follows_motion=True)

    def __init__(self, net: TaughtMotionNet, name: str = "taught", max_side: int = FLOW_MAX_SIDE, bf16: bool = True):
        self.net = net.eval()
        self.name = name
        self.max_side = max_side
        self.bf16 = bf16
        self.flow = VideoFlow()
        self._device = torch.device("cpu")

    def reset(self) -> None:
        self.flow.forget()

    def to(self, device) -> "TaughtInterpolator":
        self._device = torch.device(device)
        self.net.to(self._device)
        return self

    def seed(self, img0: np.ndarray, img1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Working-size RGB frames and `flow`'s two-way DIS motion of the pair (continuing the video's)."""
        rgb0, rgb1 = rgb8(img0), rgb8(img1)
        size = working_size(*rgb0.shape[:2], self.max_side, self.motion_scale)
        gray = lambda rgb: cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        f01, f10 = self.flow(gray(rgb0), gray(rgb1), size)
        small = lambda rgb: cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        return small(rgb0), small(rgb1), f01, f10

    def plans(self, small0: np.ndarray, small1: np.ndarray, f01: np.ndarray, f10: np.ndarray,
              times: list[float]) -> list[Plan]:
        return student_plans(self.net, small0.astype(np.float32) / 255, small1.astype(np.float32) / 255, f01, f10,
                             times, self._device, self.bf16)

    def _interpolate(self, frames0, frames1, times):
        b, h, w, c = frames0.shape
        out = np.empty((b, times.shape[1], h, w, c), frames0.dtype)
        for i in range(b):
            ts = times[i].tolist()
            inner = [t for t in ts if 0 < t < 1]
            plans = dict(zip(inner, self.plans(*self.seed(frames0[i], frames1[i]), inner))) if inner else {}
            for j, t in enumerate(ts):
                out[i, j] = frames0[i] if t <= 0 else frames1[i] if t >= 1 else warp_and_mix(frames0[i], frames1[i], *plans[t])
        return out


def student_plans(net: TaughtMotionNet, small0: np.ndarray, small1: np.ndarray, f01: np.ndarray, f10: np.ndarray,
                  times: list[float], device: torch.device = torch.device("cpu"), bf16: bool = True) -> list[Plan]:
    """The student's maps and frame 0's weight at the working size for every t, from one solve.
    small0, small1: (h, w, 3) float32 RGB in [0, 1] at the working size; f01, f10: DIS flows there."""
    h, w = small0.shape[:2]
    ph, pw = -h % GRID, -w % GRID
    tensor = lambda a: F.pad(torch.from_numpy(np.ascontiguousarray(a, np.float32)).movedim(-1, 0)[None],
                             (0, pw, 0, ph), mode="replicate").to(device)
    seed = torch.cat([tensor(f01), tensor(f10)], 1)
    ts = torch.tensor([times], dtype=torch.float32, device=device)
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        ft0, ft1, weight0 = net(tensor(small0), tensor(small1), seed, ts)
    grid = pixel_grid(h, w)
    field = lambda x, j: x[0, j, :, :h, :w].float().movedim(0, -1).cpu().numpy()
    return [(grid + field(ft0, j), grid + field(ft1, j), np.ascontiguousarray(field(weight0, j)[..., 0]))
            for j in range(len(times))]
