"""Saving and loading model checkpoints: plain tensors and config, strict keys, weights_only=True."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vfi.core.errors import VfiError
from vfi.io.files import atomic_output
from vfi.models.architectures import ARCHITECTURES, build_network

FORMAT = "vfi-checkpoint-v1"


class CheckpointError(VfiError, ValueError):
    pass


def save_checkpoint(path: str | os.PathLike, net: torch.nn.Module, arch: str, meta: dict | None = None,
                    extra: dict | None = None) -> Path:
    """Write atomically (temporary file + rename) so an interrupted save never leaves a broken file."""
    path = Path(path)
    payload = {"format": FORMAT, "arch": arch, "config": net.config.to_dict(),
               "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
               "meta": meta or {}}
    if extra:
        payload.update(extra)
    with atomic_output(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise CheckpointError(f"{path}: not a readable vfi checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a vfi checkpoint")
    if payload.get("arch") not in ARCHITECTURES:
        raise CheckpointError(f"{path}: unknown architecture {payload.get('arch')!r}")
    if not isinstance(payload.get("config"), dict):
        raise CheckpointError(f"{path}: damaged vfi checkpoint (its network settings are missing)")
    weights = payload.get("state_dict")
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(f"{path}: damaged vfi checkpoint (its weights are missing)")
    return payload


def load_network(path: str | os.PathLike, config_overrides: dict | None = None) -> tuple[torch.nn.Module, dict]:
    """Build the network the checkpoint names and load its weights strictly."""
    payload = read_checkpoint(path)
    arch = payload["arch"]
    config = dict(payload["config"])
    config.update(config_overrides or {})
    try:
        net = build_network(arch, config)
    except (TypeError, ValueError, KeyError) as exc:  # settings of another network, or out of range
        raise CheckpointError(f"{path}: its settings do not describe a {arch} network ({exc})") from None
    try:
        net.load_state_dict(payload["state_dict"], strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match the {arch} network: "
                              f"{str(exc).splitlines()[0]}") from None
    return net, payload


def grow_checkpoint(source: str | os.PathLike, output: str | os.PathLike, **config_changes) -> Path:
    """Write a copy of a checkpoint whose network has the added parts `config_changes` switch on.

    Every weight of the source must land in the new network, and the only weights left
    unfilled must be the added ones (which start at their own initialisation: zero-output
    heads, so the grown network starts out computing what the source did).
    """
    source_net, payload = load_network(source)  # the source itself must load strictly
    arch = payload["arch"]
    net = build_network(arch, dict(payload["config"], **config_changes))
    added = set(net.state_dict()) - set(source_net.state_dict())
    try:
        result = net.load_state_dict(payload["state_dict"], strict=False)
    except RuntimeError:  # a weight whose shape the change altered
        result = None
    if result is None or result.unexpected_keys or set(result.missing_keys) != added:
        raise CheckpointError(f"{source}: {config_changes} does not only add parts to the {arch} network")
    meta = dict(payload.get("meta", {}), grown_from=str(source), grown_with=config_changes)
    return save_checkpoint(output, net, arch, meta)


def load_interpolator(path: str | os.PathLike, device: str = "cpu", name: str | None = None,
                      config_overrides: dict | None = None):
    from vfi.models.adapter import ModelInterpolator

    net, payload = load_network(path, config_overrides)
    label = name or Path(path).name
    own = ARCHITECTURES[payload["arch"]].interpolator
    if own is not None:
        return own(net, label).to(device)
    return ModelInterpolator(net, payload["arch"], label, payload.get("meta", {}).get("description", "")).to(device)
