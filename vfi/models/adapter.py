"""Presents a network through the common Interpolator interface: devices, padding, scale, precision."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vfi.core.interface import Capabilities, Interpolator, Neighbours
from vfi.core.pixels import frames_to_tensor, pad_to_multiple, rgb8, tensor_to_frames, tensor_to_uint8, unpad
from vfi.motion.compose import warp_and_mix
from vfi.motion.dis import VideoFlow
from vfi.motion.resample import pixel_grid
from vfi.motion.scale import NETWORK_MAX_SIDE, working_downscale
from vfi.models.architectures import ARCHITECTURES
from vfi.models.ode import blend_weights
from vfi.models.seed import batch_seed
from vfi.models.warp import resize


class ModelInterpolator(Interpolator):
    """A learned interpolator: half precision on CUDA, fp32 (or bf16 if asked) on the CPU.

    On the CPU the ODE model's full-size warp and blend run in OpenCV on integer frames
    (`motion.compose`): the network works at the reduced working scale either way, only the
    last stage differs from the tensor path (by rounding), and it is several times faster.
    An alpha channel is then warped and blended with the colour, along the same motion.
    """

    def __init__(self, net: torch.nn.Module, arch: str, name: str, description: str = "",
                 max_work_side: int = NETWORK_MAX_SIDE, cpu_dtype: torch.dtype = torch.float32,
                 opencv_compose: bool = True):
        self.net = net.eval()
        self.arch = ARCHITECTURES[arch]
        self.name = name
        self.description = description
        self.max_work_side = max_work_side
        self.cpu_dtype = cpu_dtype
        self.opencv_compose = opencv_compose  # False: the CPU runs the tensor path too, as a GPU does
        self._device = torch.device("cpu")
        self.motion = VideoFlow()

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def capabilities(self) -> Capabilities:
        fast = self._integer_path
        # min_side: the motion seed (DIS) needs a few patches per side
        return Capabilities(alpha=fast, min_side=32, light_full_size=fast, follows_motion=self.arch.motion_seed,
                            window=self.arch.window)

    @property
    def _integer_path(self) -> bool:
        return self.opencv_compose and self.arch.plans and self._device.type == "cpu"

    def reset(self) -> None:
        self.motion.forget()

    def to(self, device) -> "ModelInterpolator":
        self._device = torch.device(device)
        self.net.to(self._device)
        if self._device.type == "cuda":  # cuDNN's fast convolutions on tensor cores want NHWC
            self.net.to(memory_format=torch.channels_last)
        return self

    def _autocast(self):
        if self._device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.float16)
        if self.cpu_dtype != torch.float32:
            return torch.autocast("cpu", dtype=self.cpu_dtype)
        return torch.autocast("cpu", enabled=False)

    def _interpolate(self, frames0, frames1, times, neighbours: Neighbours | None = None):
        if self._integer_path:
            return self._interpolate_integers(frames0, frames1, times, neighbours)
        x0, x1 = frames_to_tensor(frames0, self._device), frames_to_tensor(frames1, self._device)
        outer = None
        if neighbours is not None:
            outer = (frames_to_tensor(neighbours.before, self._device), frames_to_tensor(neighbours.after, self._device),
                     torch.from_numpy(neighbours.has_before).to(self._device),
                     torch.from_numpy(neighbours.has_after).to(self._device))
        with torch.no_grad():
            out = self._interpolate_tensors(x0, x1, times.to(self._device), outer)
        return tensor_to_frames(out, frames0.dtype)

    def _downscale(self, h: int, w: int) -> int:
        return working_downscale(h, w, self.max_work_side, self.motion_scale) if self.arch.reduced else 1

    def _interpolate_tensors(self, x0: torch.Tensor, x1: torch.Tensor, times: torch.Tensor,
                             outer: tuple | None = None) -> torch.Tensor:
        """(B, 3, H, W) float frames -> (B, T, 3, H, W), all in torch on the model's device.

        `outer`: (before, after, has_before, has_after) for four-frame networks."""
        multiple = self.arch.multiple
        h, w = x0.shape[-2:]
        ds = self._downscale(h, w)
        p0, size = pad_to_multiple(x0, multiple * ds)
        p1, _ = pad_to_multiple(x1, multiple * ds)
        work = (p0.shape[-2] // ds, p0.shape[-1] // ds)
        w0, w1 = resize(p0, work), resize(p1, work)
        seed = None
        if self.arch.motion_seed:
            seed = batch_seed(tensor_to_uint8(w0), tensor_to_uint8(w1), work, self.motion).to(self._device)
        extra = {}
        if outer is not None:
            small = lambda x: resize(pad_to_multiple(x, multiple * ds)[0], work)
            extra = dict(before=small(outer[0]), after=small(outer[1]), has_before=outer[2], has_after=outer[3])
        with self._autocast():
            out = self.net(w0, w1, seed, times, full0=p0 if ds > 1 else None, full1=p1 if ds > 1 else None, **extra)
        out = unpad(out.float(), size)
        # the ends are the inputs, exactly
        at0 = (times == 0)[:, :, None, None, None]
        at1 = (times == 1)[:, :, None, None, None]
        out = torch.where(at0, x0.unsqueeze(1), out)
        out = torch.where(at1, x1.unsqueeze(1), out)
        return out

    def _interpolate_integers(self, frames0, frames1, times, neighbours: Neighbours | None = None):
        """The network plans at the working scale; `warp_and_mix` makes each full-size frame in OpenCV."""
        b, h, w, c = frames0.shape
        ds = self._downscale(h, w)
        m = self.arch.multiple * ds
        ph, pw = (-h) % m, (-w) % m
        pad = lambda f: cv2.copyMakeBorder(f, 0, ph, 0, pw, cv2.BORDER_REPLICATE) if ph or pw else f
        full0 = np.stack([pad(f) for f in frames0])
        full1 = np.stack([pad(f) for f in frames1])
        H, W = h + ph, w + pw
        work = (H // ds, W // ds)
        # the working-scale copies are made in uint8 with OpenCV (area filter): much cheaper than in float
        shrink = lambda f: f if ds == 1 else cv2.resize(f, work[::-1], interpolation=cv2.INTER_AREA)
        working = lambda padded: np.stack([shrink(rgb8(f)) for f in padded])
        small0, small1 = working(full0), working(full1)
        to_float = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float().div_(255)
        w0, w1 = to_float(small0), to_float(small1)
        seed = batch_seed(small0, small1, work, self.motion) if self.arch.motion_seed else None
        extra = {}
        if neighbours is not None:
            small = lambda frames: to_float(working([pad(f) for f in frames]))
            extra = dict(before=small(neighbours.before), after=small(neighbours.after),
                         has_before=torch.from_numpy(neighbours.has_before),
                         has_after=torch.from_numpy(neighbours.has_after))
        with torch.no_grad(), self._autocast():
            ft0, ft1, y = self.net.plan(w0, w1, seed, times, **extra)
            weight0, residual = blend_weights(y.float(), times.flatten()[:, None, None, None])
        ft0 = ft0.float().permute(0, 2, 3, 1).numpy()
        ft1 = ft1.float().permute(0, 2, 3, 1).numpy()
        weight0 = weight0[:, 0].numpy()
        residual = residual.permute(0, 2, 3, 1).numpy()
        grid = pixel_grid(*work)
        out = np.empty((b, times.shape[1], h, w, c), frames0.dtype)
        for i in range(b):
            for j, t in enumerate(times[i].tolist()):
                k = i * times.shape[1] + j
                if t == 0 or t == 1:
                    out[i, j] = (frames0 if t == 0 else frames1)[i]
                    continue
                frame = warp_and_mix(full0[i], full1[i], grid + ft0[k], grid + ft1[k], weight0[k], residual[k])
                out[i, j] = frame[:h, :w]
        return out
