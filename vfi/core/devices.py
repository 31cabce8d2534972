"""Which device work runs on, and how a results file describes it."""

from __future__ import annotations

import platform

import torch


def resolve_device(name: str) -> str:
    """'auto' picks CUDA when present; asking for CUDA without one is a user error."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA GPU is available (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device '{name}': use auto, cpu or cuda")
    return name


def environment(device: str) -> dict:
    """What a benchmark's timings were measured on."""
    return {"device": device, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine(), "dtype": "float16" if device == "cuda" else "float32"}
