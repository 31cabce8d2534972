"""Names (and checkpoint paths) -> ready interpolators, for every command alike."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .classic import Blend, Duplicate, FlowWarp, MotionCompensated
from .interpolator import Interpolator
from .tiles import Tiled


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


register("dup", Duplicate.description, Duplicate)
register("blend", Blend.description, Blend)
register("flow", FlowWarp.description, FlowWarp)
register("mci", MotionCompensated.description, MotionCompensated)


def _pretrained(file: str, name: str, overrides: dict | None = None) -> Callable[[], Interpolator]:
    def build() -> Interpolator:
        from .models.checkpoint import load_interpolator

        path = weights_dir() / file
        if not path.is_file():
            raise UnknownModelError(f"model '{name}': its weights {path} are missing")
        return load_interpolator(path, name=name, config_overrides=overrides)

    return build


register("ode", "continuous-time ODE interpolator (learned; DIS-seeded motion, ODE trajectory, U-Net fusion)",
         _pretrained("ode.pt", "ode"), learned=True)
register("ode-linear", "the ode network with linear motion in place of the ODE trajectory (ablation)",
         _pretrained("ode.pt", "ode-linear", {"motion": "linear"}), learned=True)
register("unet", "U-Net baseline: synthesises the frame at t directly, no motion model (learned)",
         _pretrained("unet.pt", "unet"), learned=True)


def available() -> list[Entry]:
    return list(_REGISTRY.values())


def weights_dir() -> Path:
    """Shipped weights live in the repository's weights/ (VFI_WEIGHTS_DIR overrides)."""
    override = os.environ.get("VFI_WEIGHTS_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "weights"


def create(name_or_path: str, device: str = "cpu", scale: float | None = None, tile: int | None = None
           ) -> Interpolator:
    """A registered name, or a path to a checkpoint written by `vfi train`.

    `scale` fixes the fraction of the frame size motion is estimated at (default: from the
    frame size); `tile` wraps it to work in tiles (0: only for frames above 4K).
    """
    if name_or_path in _REGISTRY:
        interpolator = _REGISTRY[name_or_path].build().to(device)
    elif name_or_path.endswith(".pt") or os.sep in name_or_path:
        from .models.checkpoint import load_interpolator

        interpolator = load_interpolator(Path(name_or_path), device=device)
    else:
        raise UnknownModelError(f"unknown model '{name_or_path}': choose one of {', '.join(_REGISTRY)} "
                                "or give a .pt checkpoint")
    if scale is not None:
        interpolator.motion_scale = scale
    return Tiled(interpolator, tile) if tile is not None else interpolator
