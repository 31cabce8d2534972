"""The only resolver of names: interpolators, architectures, checkpoint paths and shipped weights."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vfi.classic import Blend, CandidateWarp, Duplicate, FlowWarp, MotionCompensated
from vfi.core.interface import Interpolator
from vfi.core.tiles import Tiled
from vfi.models.architectures import ARCHITECTURES
from vfi.models.select import AgreementChooser


class UnknownModelError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    build: Callable[[], Interpolator]
    learned: bool = False


_REGISTRY: dict[str, Entry] = {}


def register(name: str, description: str, build: Callable[[], Interpolator], learned: bool = False) -> None:
    _REGISTRY[name] = Entry(name, description, build, learned)


def weights_dir() -> Path:
    """Where the shipped weights are: inside an installed package, else the repository's weights/.

    VFI_WEIGHTS_DIR overrides both.
    """
    override = os.environ.get("VFI_WEIGHTS_DIR")
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent
    installed = package / "weights"
    return installed if installed.is_dir() else package.parent / "weights"


def pretrained_weights(arch: str) -> Path:
    """The shipped checkpoint of an architecture; a clear error when it is missing."""
    path = weights_dir() / ARCHITECTURES[arch].weights
    if not path.is_file():
        raise UnknownModelError(f"model '{arch}': its weights {path} are missing")
    return path


def _pretrained(arch: str, name: str, overrides: dict | None = None) -> Callable[[], Interpolator]:
    def build() -> Interpolator:
        from vfi.models.checkpoint import load_interpolator

        return load_interpolator(pretrained_weights(arch), name=name, config_overrides=overrides)

    return build


register("dup", Duplicate.description, Duplicate)
register("blend", Blend.description, Blend)
register("flow", FlowWarp.description, FlowWarp)
register("mci", MotionCompensated.description, MotionCompensated)
for _candidate in ("fine", "matched", "homography"):  # `select`'s candidate motions alone (zero motion is `blend`)
    register(f"motion-{_candidate}", CandidateWarp(_candidate).description,
             lambda candidate=_candidate: CandidateWarp(candidate))
register("ode", "continuous-time ODE interpolator (learned; DIS-seeded motion, ODE trajectory, U-Net fusion)",
         _pretrained("ode", "ode"), learned=True)
register("ode-linear", "the ode network with linear motion in place of the ODE trajectory (ablation)",
         _pretrained("ode", "ode-linear", {"motion": "linear"}), learned=True)
register("unet", "U-Net baseline: synthesises the frame at t directly, no motion model (learned)",
         _pretrained("unet", "unet"), learned=True)
register("agree", "per 16x16 block, the candidate motion whose two warps agree best (hand-made rule; ablation)",
         lambda: AgreementChooser())
register("select", "learned per-pixel choice among candidate motions: seeded DIS, SIFT matches made dense, "
         "zero motion, the four-frame path", _pretrained("select", "select"), learned=True)


def available() -> list[Entry]:
    return list(_REGISTRY.values())


def architectures() -> list[str]:
    """Names a training run on frame crops can start from (with their shipped weights, or from scratch)."""
    return [name for name, spec in ARCHITECTURES.items() if spec.fits_frames]


def create(name_or_path: str, device: str = "cpu", scale: float | None = None, tile: int | None = None
           ) -> Interpolator:
    """A registered name, or a path to a checkpoint written by `vfi train`.

    `scale` fixes the fraction of the frame size motion is estimated at (default: from the
    frame size); `tile` wraps it to work in tiles (0: only for frames above 4K).
    """
    if name_or_path in _REGISTRY:
        interpolator = _REGISTRY[name_or_path].build().to(device)
    elif name_or_path.endswith(".pt") or os.sep in name_or_path:
        from vfi.models.checkpoint import load_interpolator

        interpolator = load_interpolator(Path(name_or_path), device=device)
    else:
        raise UnknownModelError(f"unknown model '{name_or_path}': choose one of {', '.join(_REGISTRY)} "
                                "or give a .pt checkpoint")
    if scale is not None:
        interpolator.motion_scale = scale
    return Tiled(interpolator, tile) if tile is not None else interpolator
