"""Train the `select` interpolator's network (vfi.models.select) on the corpus's training clips.

The candidates of windows of every k-th frame of each training clip (every corpus clip but the 9
held out; k from `--factors`) are cached once with the true frames between (t = j/k), and `--synthetic`
fast-sprite scenes over the clips' frames are added (vfi.training.select_fit); the network then
trains on the cache, printing samples/s, and the checkpoint is written for `vfi upsample -m PATH`
and `vfi benchmark --methods PATH`. The command that scores it beside `flow` on the held-out clips
is printed at the end.

    python examples/selector_experiment.py CORPUS_DIR --out weights/select.pt [--steps 2000] [--bf16]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from vfi.io.decode import read_frames
from vfi.training.corpus import HELD_OUT, corpus_clips
from vfi.models.checkpoint import load_network, save_checkpoint
from vfi.models.select import SelectConfig, SelectNet
from vfi.training.losses import SELECT_LOSSES
from vfi.training.select_fit import SelectCache, add_synthetic, add_video, train_select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--out", type=Path, default=Path("select.pt"))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crops", type=int, default=2, help="Random crops kept per window and t.")
    parser.add_argument("--max-frames", type=int, default=120, help="Frames read per clip.")
    parser.add_argument("--synthetic", type=int, default=0, help="Fast-sprite scenes added to the cache.")
    parser.add_argument("--factors", default="2,4", help="Comma-separated window strides k (targets at t = j/k).")
    parser.add_argument("--bf16", action="store_true", help="Train under bfloat16 autocast (softmax in fp32).")
    parser.add_argument("--network-scale", type=float, default=SelectConfig.network_scale,
                        help="The selector's size as a fraction of the motion's working size.")
    parser.add_argument("--loss", choices=sorted(SELECT_LOSSES), default="l1",
                        help="What training lowers: L1, or the log of each crop's mean squared error (PSNR's own).")
    parser.add_argument("--candidates", default=",".join(SelectConfig.candidates),
                        help="Comma-separated candidate motions (vfi.motion.candidates), 'seeded' among them.")
    parser.add_argument("--taught", type=Path, default=None,
                        help="A taught-motion checkpoint (examples/train_taught.py): its student becomes one more "
                             "candidate and is stored inside the selector's checkpoint.")
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    candidates = tuple(args.candidates.split(",")) + (("taught",) if args.taught else ())
    student = load_network(args.taught)[0] if args.taught else None
    config = SelectConfig(network_scale=args.network_scale, candidates=candidates,
                          student=student.config.to_dict() if student else {})
    net = SelectNet(config)
    if student is not None:
        net.student.load_state_dict(student.state_dict(), strict=True)
    factors = [int(k) for k in args.factors.split(",")]
    clips = corpus_clips(args.corpus)
    training = [c for c in clips if c.name not in HELD_OUT]
    began, cache, photos = time.perf_counter(), SelectCache(), []
    for clip in training:
        clip_began, n = time.perf_counter(), len(cache)
        frames = read_frames(clip, max_frames=args.max_frames)
        photos += frames[::40]
        for factor in factors:
            add_video(cache, frames, range(0, len(frames) - factor, factor), factor, config, args.crops, rng,
                      net.student)
        print(f"cache: {clip.name}: {len(cache) - n} crops in {time.perf_counter() - clip_began:.0f} s", flush=True)
    n = len(cache)
    add_synthetic(cache, args.synthetic, photos, max(factors), config, args.crops, rng, student=net.student)
    cache_seconds = round(time.perf_counter() - began)
    print(f"cache: {args.synthetic} fast-sprite scenes: {len(cache) - n} crops; {len(cache)} crops from "
          f"{len(training)} clips in {cache_seconds} s", flush=True)
    report = train_select(net, cache, args.steps, args.batch, rng, bf16=args.bf16, log=lambda s: print(s, flush=True),
                          loss_name=args.loss)
    meta = dict(report, cache_seconds=cache_seconds, crops=len(cache), clips=[c.name for c in training],
                synthetic_scenes=args.synthetic, factors=factors, frames_per_clip=args.max_frames, bf16=args.bf16,
                loss=args.loss,
                description="learned per-pixel choice among candidate motions")
    save_checkpoint(args.out, net, "select", meta)
    held = " ".join(str(c) for c in clips if c.name in HELD_OUT)
    print(f"saved {args.out}; score it: vfi benchmark {held} --methods flow,{args.out} --max-frames {args.max_frames}")


if __name__ == "__main__":
    main()
