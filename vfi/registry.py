"""The only resolver of names: interpolators, architectures, checkpoint paths and shipped weights."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vfi.classic import Blend, CandidateWarp, Duplicate, FlowWarp, MotionCompensated
from vfi.core.errors import VfiError
from vfi.core.interface import Interpolator
from vfi.core.tiles import Tiled
from vfi.models.architectures import ARCHITECTURES
from vfi.models.select import AgreementChooser


class UnknownModelError(VfiError, ValueError):
    pass


# What `upsample` and `interpolate` use when no --model is given: the best picture vfi makes.
DEFAULT_MODEL = "select"

# How `vfi models` groups the entries, in the order a user should consider them; ablations exist to
# measure what one part of a model is worth and are listed only on request.
ROLES = ("default", "fast", "learned", "baseline", "ablation")


@dataclass(frozen=True)
class Measured:
    """Quality and speed quoted to users (docs/benchmarks.md has the commands; a test checks the README
    quotes the same): held-out corpus clips PSNR at x2 and x4, and model time per 1280x720 frame."""

    x2: float
    x4: float
    ms_720p: float | None = None


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    build: Callable[[], Interpolator]
    role: str = "baseline"
    measured: Measured | None = None


_REGISTRY: dict[str, Entry] = {}


def register(name: str, description: str, build: Callable[[], Interpolator], role: str = "baseline",
             measured: Measured | None = None) -> None:
    if role not in ROLES:
        raise ValueError(f"role '{role}' is not one of {', '.join(ROLES)}")
    _REGISTRY[name] = Entry(name, description, build, role, measured)


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


def pretrained_weights(arch: str, file: str | None = None) -> Path:
    """The shipped checkpoint of an architecture (`file`: another shipped file of it); a clear error when
    it is missing."""
    path = weights_dir() / (file or ARCHITECTURES[arch].weights)
    if not path.is_file():
        raise UnknownModelError(f"model '{arch}': its weights {path} are missing")
    return path


def _pretrained(arch: str, name: str, overrides: dict | None = None, file: str | None = None
                ) -> Callable[[], Interpolator]:
    def build() -> Interpolator:
        from vfi.models.checkpoint import load_interpolator

        return load_interpolator(pretrained_weights(arch, file), name=name, config_overrides=overrides)

    return build


# Measured in one run each (docs/benchmarks.md, "Choosing the default"): the held-out clips'
# reports/heldout_models.md and the 720p model times of reports/speed_720p_models.md.
register("select", "learned per-pixel choice among candidate motions: seeded DIS, SIFT matches made dense, "
         "zero motion, the four-frame path", _pretrained("select", "select"),
         role="default", measured=Measured(34.83, 32.20, 87))
register("flow", FlowWarp.description, FlowWarp, role="fast", measured=Measured(34.61, 31.42, 39))
register("ode", "continuous-time ODE interpolator (learned; DIS-seeded motion, ODE trajectory, U-Net fusion)",
         _pretrained("ode", "ode"), role="learned", measured=Measured(34.65, 31.38, 118))
register("unet", "U-Net baseline: synthesises the frame at t directly, no motion model (learned)",
         _pretrained("unet", "unet"), role="learned", measured=Measured(30.70, 28.81, 950))
register("mci", MotionCompensated.description, MotionCompensated, measured=Measured(32.50, 29.19, 645))
register("blend", Blend.description, Blend, measured=Measured(30.69, 28.79, 1.1))
register("dup", Duplicate.description, Duplicate, measured=Measured(28.76, 26.84, 3.6))
register("ode-linear", "the ode network with linear motion in place of the ODE trajectory",
         _pretrained("ode", "ode-linear", {"motion": "linear"}), role="ablation")
register("agree", "per 16x16 block, the candidate motion whose two warps agree best (hand-made rule)",
         lambda: AgreementChooser(), role="ablation")
# The taught motion (weights/taught.md, weights/select-taught.md): a student of RIFE 4.25's motion alone,
# and as a fifth candidate of `select`; level with `select` on the held-out clips, so not the default.
register("taught", "DIS motion corrected by a student of RIFE 4.25's intermediate flows, an ODE in t",
         _pretrained("taught", "taught"), role="ablation", measured=Measured(34.57, 31.16))
register("select-taught", "select with the taught motion as a fifth candidate",
         _pretrained("select", "select-taught", file="select-taught.pt"), role="ablation",
         measured=Measured(34.81, 32.18))
for _candidate in ("fine", "matched", "homography"):  # `select`'s candidate motions alone (zero motion is `blend`)
    register(f"motion-{_candidate}", CandidateWarp(_candidate).description,
             lambda candidate=_candidate: CandidateWarp(candidate), role="ablation")


def available(ablations: bool = True) -> list[Entry]:
    """Every entry in the order a user should consider them (see ROLES)."""
    entries = sorted(_REGISTRY.values(), key=lambda entry: ROLES.index(entry.role))
    return [entry for entry in entries if ablations or entry.role != "ablation"]


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
