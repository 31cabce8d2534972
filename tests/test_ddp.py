"""`torchrun -m vfi train`: two gloo processes take the steps one process takes on their combined batch."""

from __future__ import annotations

import os
import socket

import numpy as np
import torch
import torch.multiprocessing as mp

from vfi.training.ranks import Ranks, join
from vfi.training.samples import SyntheticMotion
from vfi.training.trainer import TrainConfig, Trainer

STEPS = 2
PER_RANK = 2
LR = 0.05
TOLERANCE = 1e-6  # float32 sums in another order (gloo's all-reduce, then the mean) differ in the last bits


def trainer(out, ranks: Ranks = Ranks()) -> Trainer:
    """A small `ode` from scratch; plain SGD, so the weights show the gradients themselves (AdamW's first
    steps divide each gradient by its own size, which turns last-bit differences of near-zero
    gradients into whole steps)."""
    config = TrainConfig(arch="ode", steps=STEPS, crop=32, batch_size=PER_RANK, lr=LR, synthetic_fraction=1.0,
                         seed=0)
    t = Trainer(config, [], SyntheticMotion([], max_speed=6.0), [], out, ranks=ranks)
    t.opt = torch.optim.SGD(t.net.parameters(), lr=LR)
    return t


def combined_batch(t: Trainer) -> list:
    """The same samples in every process: drawn from generators of their own, by index."""
    return [t.mix.draw(np.random.default_rng(i)) for i in range(2 * PER_RANK)]


def train_as_rank(rank: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    ranks = join("cpu")
    t = trainer(f"{folder}/ddp.pt", ranks)
    mine = combined_batch(t)[rank * PER_RANK:(rank + 1) * PER_RANK]
    t.next_batch = lambda: t.mix.collate(mine)
    for _ in range(STEPS):
        t.train_step()
    if ranks.main:
        t.save_resume()
    torch.distributed.barrier()  # neither leaves while the other still talks
    torch.distributed.destroy_process_group()
    # Leave without the interpreter's teardown: in about one full-suite run in three, gloo's threads met
    # it and the C++ runtime aborted the process (SIGABRT, "terminate called without an active
    # exception") after its work was done and saved.
    os._exit(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_give_the_weights_of_one_on_the_combined_batch_and_resume_anywhere(tmp_path):
    mp.spawn(train_as_rank, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    torch.set_num_threads(1)
    one = trainer(tmp_path / "one.pt")
    everything = combined_batch(one)
    one.next_batch = lambda: one.mix.collate(everything)
    for _ in range(STEPS):
        one.train_step()
    resumed = trainer(tmp_path / "resumed.pt")
    resumed.load_resume(tmp_path / "ddp.pt.resume")  # the two-process run, continued by one
    assert resumed.step == STEPS
    single, distributed = one.net.state_dict(), resumed.net.state_dict()
    start = trainer(tmp_path / "start.pt").net.state_dict()
    moved = max(float((single[k] - start[k]).abs().max()) for k in single)
    assert moved > 100 * TOLERANCE  # the steps changed the weights, so agreeing means something
    assert max(float((single[k] - distributed[k]).abs().max()) for k in single) < TOLERANCE
