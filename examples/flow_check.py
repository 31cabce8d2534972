"""Is an `ode4` network's motion learning? The checks behind docs/training.md, "`ode4`".

    python examples/flow_check.py CHECKPOINT --photos DIR     # end-point error, a translation, a thrown ball
    python examples/flow_check.py --regress 400 --radius 0|3 --photos DIR   # the flow network alone, from scratch

End-point error: on 32 synthetic scenes (seeded, 128 px) against their exact flows, beside
zero flow's, at the largest shifts of 0.15 and 0.25 of the crop. Translation: how far off the
frame at t = 1/4 of a texture moved 6 px is (tests/test_models.py allows 0.25 px). Thrown
ball: PSNR around a ball thrown up and falling back at t = 1/2, with the outer frames and
without. Regression: the pair-flow network alone trained on the exact flows of fresh 96 px
batches (batch 8, AdamW 5e-4), its error on 16 scenes set aside every 50 steps.
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_models import misalignment  # noqa: E402  (the sweep's own measure)

from vfi.core.interface import Neighbours
from vfi.core.metrics import psnr
from vfi.models.checkpoint import load_interpolator
from vfi.models.pair_flow import PairFlow
from vfi.training.device_scenes import DeviceScenes, photo_bank, procedural_bank
from vfi.training.losses import flow_error
from vfi.training.samples import load_photos
from vfi.training.synthetic import Layer, Motion, Scene, random_texture
from vfi.training.windows import WindowMix

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("checkpoint", nargs="?", type=Path)
parser.add_argument("--photos", type=Path)
parser.add_argument("--regress", type=int, default=0, help="steps of flow regression from scratch (no checkpoint)")
parser.add_argument("--radius", type=int, default=3, help="cost-volume reach of the regressed network (0: none)")
args = parser.parse_args()
torch.manual_seed(0)
bank = photo_bank(load_photos(args.photos, limit=40), 512, "cpu") if args.photos else \
    procedural_bank(32, 512, torch.Generator().manual_seed(0), "cpu")


def scenes(shift: float, crop: int, count: int, seed: int):
    mix = WindowMix(None, DeviceScenes(bank, blur_share=0.0, max_shift=shift), 1.0, crop, drop_outer=0.0)
    return mix.batch(np.random.default_rng(seed), torch.Generator().manual_seed(seed), count)


if args.regress:
    net = PairFlow((128, 96, 64, 48), (8, 4, 2, 1), 4, args.radius)
    opt = torch.optim.AdamW(net.parameters(), lr=5e-4)
    aside = scenes(0.15, 96, 16, 99)
    for step in range(1, args.regress + 1):
        batch = scenes(0.15, 96, 8, step)
        loss = flow_error(net(batch.frame0, batch.frame1), batch.flows, batch.has_flows)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            with torch.no_grad():
                error = flow_error(net(aside.frame0, aside.frame1), aside.flows, aside.has_flows)
            print(f"radius {args.radius}, step {step}: end-point error {error:.2f} px "
                  f"(zero flow {flow_error(torch.zeros_like(aside.flows), aside.flows, aside.has_flows):.2f})")
    sys.exit(0)

model = load_interpolator(args.checkpoint, name="ode4")
for shift in (0.15, 0.25):
    batch = scenes(shift, 128, 32, 5)
    with torch.no_grad():
        flows = model.net.flow(batch.frame0, batch.frame1)
    zero = flow_error(torch.zeros_like(flows), batch.flows, batch.has_flows)
    print(f"max shift {shift}: end-point error {flow_error(flows, batch.flows, batch.has_flows):.2f} px "
          f"(zero flow {zero:.2f})")
shift, quality = misalignment("ode4", {"ode4": model}, 6.0, 0.0, 0.25)
print(f"6 px translation at t = 1/4: {shift:.2f} px off, {quality:.2f} dB")

rng = np.random.default_rng(5)
h, w, size = 128, 160, 28
alpha = np.zeros((size, size), np.float32)
cv2.circle(alpha, (size // 2, size // 2), size // 2 - 1, 1.0, -1, cv2.LINE_AA)
wall = Layer(random_texture(h, w, rng), Motion())
ball = Layer(random_texture(size, size, rng), Motion(p0=(60.0, 50.0), v=(6.0, -12.0), a=(0.0, 24.0)), alpha)
scene = Scene(h, w, [wall, ball])
before, a, b, after = (scene.render(t)[None] for t in (-1.0, 0.0, 1.0, 2.0))
box = (slice(30, 90), slice(50, 110))
yes = np.array([True])
four = model.interpolate(a, b, [0.5], Neighbours(before, after, yes, yes))[0, 0]
two = model.interpolate(a, b, [0.5])[0, 0]
truth = scene.render(0.5)
print(f"thrown ball at t = 1/2: {psnr(four[box], truth[box]):.2f} dB with the outer frames, "
      f"{psnr(two[box], truth[box]):.2f} dB without")
