"""Checkpoints load strictly, with weights_only=True, and refuse anything else with one clear error."""

from __future__ import annotations

import pickle

import pytest
import torch

from vfi.models import build_network
from vfi.models.checkpoint import CheckpointError, load_interpolator, load_network, save_checkpoint


def test_round_trip_is_exact(tmp_path):
    net = build_network("ode")
    path = save_checkpoint(tmp_path / "m.pt", net, "ode", {"note": "x"})
    loaded, payload = load_network(path)
    assert payload["meta"] == {"note": "x"}
    for (k, v), (k2, v2) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_missing_or_unexpected_keys_are_refused(tmp_path):
    net = build_network("unet")
    path = save_checkpoint(tmp_path / "m.pt", net, "unet")
    payload = torch.load(path, weights_only=True)
    payload["state_dict"].pop(next(iter(payload["state_dict"])))
    payload["state_dict"]["extra.weight"] = torch.zeros(1)
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="do not match"):
        load_network(path)


def test_files_with_code_in_them_are_refused(tmp_path):
    class Sneaky:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"format": "vfi-checkpoint-v1", "x": Sneaky()}))
    with pytest.raises(CheckpointError, match="not a readable vfi checkpoint"):
        load_network(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"hello": 1}, path)
    with pytest.raises(CheckpointError, match="not a vfi checkpoint"):
        load_interpolator(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_interpolator(tmp_path / "missing.pt")
