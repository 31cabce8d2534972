"""Where `select`'s time goes on one clip: milliseconds per pair and per interpolated frame (x2) for each stage.

    python examples/select_stages.py [CLIP] [--pairs 5] [--every 1] [--model select]

Without CLIP, the clip is `examples/speed_table.py`'s 720p one (the synthetic `occlusion` scene,
96 frames at 30 fps, libx264 crf 18), written to a temporary folder.

Consecutive pairs, each with the frames around it, as `upsample` gives them at x2 (so a frame's
features and a pair's flows, computed once per video, are met again); the candidates report
their own times (`SelectInterpolator.last`), the rest is timed here. `--every K` takes pairs of
every K-th frame, as `vfi benchmark -f K` does. It also counts the pairs whose `matched` search ran
(it runs only where a match doubts `seeded`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from vfi.io.decode import read_frames
from vfi.io.encode import EncodeSettings, write_video
from vfi.registry import create
from vfi.training.synthetic import make_scene


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path, nargs="?", help="a video (default: speed_table.py's 720p clip)")
    parser.add_argument("--pairs", type=int, default=5, help="at most this many pairs (fewer where the clip is short)")
    parser.add_argument("--every", type=int, default=1, help="pairs of every k-th frame")
    parser.add_argument("--model", default="select", help="`select` or a select checkpoint")
    args = parser.parse_args()
    model = create(args.model)
    every_kth = lambda path: read_frames(path, max_frames=(args.pairs + 4) * args.every)[::args.every]
    if args.clip is None:
        with tempfile.TemporaryDirectory() as tmp:
            clip = write_video(Path(tmp) / "clip_720p.mp4", make_scene("occlusion", 720, 1280, seed=1).clip(96), 30,
                               EncodeSettings(crf=18, preset="fast"))
            frames = every_kth(clip)
    else:
        frames = every_kth(args.clip)
    pairs = min(args.pairs, len(frames) - 4)
    spent, searched = defaultdict(float), 0
    for i in range(2, pairs + 2):
        began = time.perf_counter()
        pair = model.prepare(frames[i], frames[i + 1], (frames[i - 1], frames[i + 2]))
        spent["candidates (all)"] += time.perf_counter() - began
        for name, ms in model.last.milliseconds.items():
            spent[f"  {name}"] += ms / 1000
        searched += "matched" in model.last.milliseconds
        began = time.perf_counter()
        model.weights(pair, 0.5)
        spent["evidence and network"] += time.perf_counter() - began
        began = time.perf_counter()
        model.render(frames[i], frames[i + 1], pair, 0.5)
        spent["render (evidence and network again, maps, warps)"] += time.perf_counter() - began
    for name, seconds in spent.items():
        print(f"{name:52s} {1000 * seconds / pairs:7.1f} ms")
    print(f"`matched` searched for {searched} of {pairs} pairs")


if __name__ == "__main__":
    main()
