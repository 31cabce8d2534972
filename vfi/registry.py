"""Names (and checkpoint paths) -> ready interpolators, for every command alike."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .classic import Blend, Duplicate, FlowWarp
from .interpolator import Interpolator


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


def available() -> list[Entry]:
    return list(_REGISTRY.values())


def weights_dir() -> Path:
    """Shipped weights live in the repository's weights/ (VFI_WEIGHTS_DIR overrides)."""
    override = os.environ.get("VFI_WEIGHTS_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "weights"


def create(name_or_path: str, device: str = "cpu") -> Interpolator:
    """A registered name, or a path to a checkpoint written by `vfi train`."""
    if name_or_path in _REGISTRY:
        return _REGISTRY[name_or_path].build().to(device)
    if name_or_path.endswith(".pt") or os.sep in name_or_path:
        from .models.checkpoint import load_interpolator  # models are optional until asked for

        return load_interpolator(Path(name_or_path), device=device)
    raise UnknownModelError(f"unknown model '{name_or_path}': choose one of {', '.join(_REGISTRY)} or give a .pt checkpoint")
