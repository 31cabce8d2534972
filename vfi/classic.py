"""Classical interpolators: repeat the previous frame, cross-fade, and optical-flow warping.

They are the baselines every model is shown beside; `flow` warps along the same DIS motion
(`motion/dis.py`) that the learned ODE interpolator starts from.
"""

from __future__ import annotations

import math
from fractions import Fraction

import cv2
import numpy as np

from vfi.core.interface import Capabilities, Interpolator
from vfi.core.pixels import rgb8
from vfi.io.ffmpeg import ffmpeg_exe, run_ffmpeg
from vfi.motion.compose import blend_maps, warp_and_mix
from vfi.motion.candidates import CANDIDATES
from vfi.motion.dis import VideoFlow, shrink_gray
from vfi.motion.occlusion import fb_occlusion
from vfi.motion.resample import pixel_grid
from vfi.motion.scale import FLOW_MAX_SIDE, working_size


class Duplicate(Interpolator):
    """Repeat the earlier frame: what a player does with no interpolation at all."""

    name = "dup"
    description = "repeat the previous frame (no interpolation)"
    capabilities = Capabilities(alpha=True, light_full_size=True)

    def _interpolate(self, frames0, frames1, times):
        return np.repeat(frames0[:, None], times.shape[1], axis=1)


class Blend(Interpolator):
    """Linear cross-fade (1 - t) * frame0 + t * frame1."""

    name = "blend"
    description = "linear cross-fade of the two frames"
    capabilities = Capabilities(alpha=True, light_full_size=True)

    def _interpolate(self, frames0, frames1, times):
        """In integers with OpenCV, rounding half to even as the published blend baselines are computed."""
        out = np.empty((frames0.shape[0], times.shape[1], *frames0.shape[1:]), frames0.dtype)
        for i in range(frames0.shape[0]):
            for j, tj in enumerate(times[i].tolist()):
                out[i, j] = cv2.addWeighted(frames0[i], 1.0 - tj, frames1[i], tj, 0.0)
        return out


class FlowWarp(Interpolator):
    """Warp both frames to time t along DIS flow; blend with occlusion-aware weights.

    Flow, occlusion and blend weights are worked out at the flow's reduced size; only the
    two warps and the blend touch full-resolution pixels, and they stay in uint8.
    """

    name = "flow"
    description = "bidirectional DIS optical flow (started from the previous pair's), warped to t, occlusion-aware blend"
    # DIS needs a few patches per side
    capabilities = Capabilities(alpha=True, min_side=32, light_full_size=True, follows_motion=True)

    def __init__(self, max_side: int = FLOW_MAX_SIDE):
        self.max_side = max_side
        self.flow = VideoFlow()

    def reset(self) -> None:
        self.flow.forget()

    def _interpolate(self, frames0, frames1, times):
        b, h, w, c = frames0.shape
        out = np.empty((b, times.shape[1], h, w, c), frames0.dtype)
        for i in range(b):
            pair = self.prepare(frames0[i], frames1[i])
            for j, t in enumerate(times[i].tolist()):
                out[i, j] = self.warp_blend(frames0[i], frames1[i], pair, t)
        return out

    def prepare(self, img0: np.ndarray, img1: np.ndarray) -> dict:
        gray0 = cv2.cvtColor(rgb8(img0), cv2.COLOR_RGB2GRAY)
        gray1 = cv2.cvtColor(rgb8(img1), cv2.COLOR_RGB2GRAY)
        f01, f10 = self.motion(gray0, gray1, working_size(*gray0.shape, self.max_side, self.motion_scale))
        small = pixel_grid(*f01.shape[:2])
        return {"f01": f01, "f10": f10, "occ0": fb_occlusion(f01, f10, small),
                "occ1": fb_occlusion(f10, f01, small)}

    def motion(self, gray0: np.ndarray, gray1: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The pair's two-way flow at the working size `size`."""
        return self.flow(gray0, gray1, size)

    def warp_blend(self, img0: np.ndarray, img1: np.ndarray, pair: dict, t: float) -> np.ndarray:
        if t <= 0:
            return img0
        if t >= 1:
            return img1
        map0, map1, weight0 = blend_maps(pair["f01"], pair["f10"], t, pair["occ0"], pair["occ1"])
        return warp_and_mix(img0, img1, map0, map1, weight0)


class CandidateWarp(FlowWarp):
    """`flow`'s warp and blend along one other candidate motion of `vfi.motion.candidates`: each
    candidate alone, for ablations beside `flow` (the `seeded` candidate) and `select`. Where the
    candidate cannot be formed (too few matches), the pair falls back to `flow`'s own motion."""

    def __init__(self, candidate: str, max_side: int = FLOW_MAX_SIDE):
        super().__init__(max_side)
        self.candidate = candidate
        self.name = f"motion-{candidate}"
        self.description = f"`flow`'s warp and blend along the '{candidate}' candidate motion"

    def motion(self, gray0: np.ndarray, gray1: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        seeded = self.flow(gray0, gray1, size)  # kept running, so the fallback is `flow` itself
        flows = CANDIDATES[self.candidate](shrink_gray(gray0, size), shrink_gray(gray1, size), None, None)
        return flows if flows is not None else seeded


class MotionCompensated(Interpolator):
    """ffmpeg's minterpolate filter (mi_mode=mci): what many users reach for today.

    A batch of pairs is fed as one stream f0, f1, f0', f1', ... at 1 fps and re-timed to N fps,
    N the common denominator of the requested times; the outputs inside the (f0, f1) intervals
    are the frames at t = j / N. The spurious f1 -> f0' intervals are computed and ignored.
    """

    name = "mci"
    description = "ffmpeg minterpolate, motion-compensated (mi_mode=mci, bidirectional ME, OBMC; 8-bit)"
    # minterpolate works on 16-pixel blocks of 8-bit RGB
    capabilities = Capabilities(deep=False, min_side=32, light_full_size=True)
    max_denominator = 60

    def _interpolate(self, frames0, frames1, times):
        b, h, w, _ = frames0.shape
        steps = [[Fraction(float(t)).limit_denominator(self.max_denominator) for t in row] for row in times.tolist()]
        rate = math.lcm(*[f.denominator for row in steps for f in row]) if steps[0] else 1
        ph, pw = (-h) % 16, (-w) % 16  # whole macroblocks, even sizes for the filter's YUV
        pad = lambda f: cv2.copyMakeBorder(f, 0, ph, 0, pw, cv2.BORDER_REPLICATE) if ph or pw else f
        stream = [pad(f) for i in range(b) for f in (frames0[i], frames1[i])] + [pad(frames1[-1])]
        H, W = h + ph, w + pw
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{W}x{H}", "-framerate", "1", "-i", "-", "-vf",
               f"minterpolate=fps={rate}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1:scd=none",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        proc = run_ffmpeg(cmd, input=b"".join(np.ascontiguousarray(f).tobytes() for f in stream),
                              capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"minterpolate failed: {proc.stderr.decode(errors='replace').strip()[-200:]}")
        frames = np.frombuffer(proc.stdout, np.uint8).reshape(-1, H, W, 3)
        out = np.empty((b, times.shape[1], h, w, 3), np.uint8)
        for i, row in enumerate(steps):
            for j, t in enumerate(row):
                if t == 0:
                    out[i, j] = frames0[i]
                elif t == 1:
                    out[i, j] = frames1[i]
                else:
                    out[i, j] = frames[2 * i * rate + int(t * rate)][:h, :w]
        return out
