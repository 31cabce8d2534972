"""Wall time of one `vfi upsample` job: the plain command, and --ray on a local Ray of 1 and of 2 workers.

All three run in this one invocation, one after the other, each in a fresh process (Ray's
start-up is counted), so the figures compare on the same machine at the same time.

    python examples/ray_speed.py CLIP [--factor 2] [--model flow] [--part-frames 120]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY_RUN = """
import sys
from fractions import Fraction
from vfi.pipeline.cluster import upsample_on_ray
clip, out, model, factor, part, cpus = sys.argv[1:]
upsample_on_ray(clip, out, model, factor=int(factor), part_frames=int(part), num_cpus=int(cpus))
"""


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--factor", type=int, default=2)
    parser.add_argument("--model", default="flow")
    parser.add_argument("--part-frames", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain = timed(["vfi", "upsample", str(args.clip), "-o", f"{tmp}/plain.mkv", "-f", str(args.factor),
                       "-m", args.model, "--part-frames", str(args.part_frames), "-q"])
        on = {n: timed([sys.executable, "-c", RAY_RUN, str(args.clip), f"{tmp}/ray{n}.mkv", args.model,
                        str(args.factor), str(args.part_frames), str(n)]) for n in (1, 2)}
    print(f"| {args.clip.name} x{args.factor} `{args.model}` | {plain:.1f} s | {on[1]:.1f} s | {on[2]:.1f} s |")


if __name__ == "__main__":
    main()
