"""Checkpoints load strictly, with weights_only=True, and refuse anything else with one clear error."""

from __future__ import annotations

import pickle

import pytest
import torch

from vfi.models.architectures import build_network
from vfi.models.checkpoint import CheckpointError, grow_checkpoint, load_interpolator, load_network, save_checkpoint


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


def test_a_grown_network_starts_out_computing_what_its_source_did(tmp_path):
    torch.manual_seed(0)
    source = build_network("ode")
    for p in source.parameters():  # loud weights everywhere, so a stray difference would show
        p.data.normal_(0, 0.05)
    path = save_checkpoint(tmp_path / "src.pt", source, "ode")
    grown, payload = load_network(grow_checkpoint(path, tmp_path / "grown.pt", corr_radius=2))
    assert payload["config"]["corr_radius"] == 2 and grown.corr_head is not None
    f0, f1 = torch.rand(1, 3, 32, 48), torch.rand(1, 3, 32, 48)
    seed, times = torch.randn(1, 4, 32, 48) * 2, torch.tensor([[0.25, 0.5]])
    with torch.no_grad():
        assert torch.equal(source(f0, f1, seed, times), grown(f0, f1, seed, times))


def test_growing_refuses_changes_that_reshape_existing_weights(tmp_path):
    path = save_checkpoint(tmp_path / "src.pt", build_network("ode"), "ode")
    with pytest.raises(CheckpointError, match="does not only add parts"):
        grow_checkpoint(path, tmp_path / "grown.pt", hidden=8)
    assert not (tmp_path / "grown.pt").exists()
