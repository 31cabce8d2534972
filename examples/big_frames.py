"""Peak memory and speed of `vfi upsample` on a 4K clip, per method, from one run.

Makes a synthetic 3840x2160 clip, runs `vfi upsample --factor 2` with each method under
`/usr/bin/time -v`, and prints a Markdown table: output frames per second as the command
reports it, and the peak resident memory of the Python process (ffmpeg's decoder and
encoder are separate processes and are listed apart).

    python examples/big_frames.py [--frames 24] [--methods dup,flow,ode] [--size 3840x2160]
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from vfi.training.synthetic import make_scene
from vfi.io.encode import EncodeSettings, write_video

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--frames", type=int, default=24, help="input frames")
parser.add_argument("--methods", default="dup,flow,ode")
parser.add_argument("--size", default="3840x2160")
args = parser.parse_args()

w, h = map(int, args.size.split("x"))
rows = []
with tempfile.TemporaryDirectory() as tmp:
    clip = Path(tmp) / "clip.mp4"
    write_video(clip, make_scene("occlusion", h, w, seed=1).clip(args.frames), 30, EncodeSettings(crf=18, preset="fast"))
    for method in args.methods.split(","):
        out = Path(tmp) / "out.mp4"
        run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "vfi", "upsample", str(clip), "-o", str(out),
                              "--factor", "2", "-m", method, "--force"], capture_output=True, text=True, check=True)
        fps = float(re.search(r"([\d.]+) output fps", run.stderr).group(1))
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
        rows.append(f"| {h}p | x2 | {method} | {fps:.2f} | {rss / 1e6:.2f} GB |")

print(f"`vfi upsample --factor 2` on a {w}x{h} clip ({args.frames} frames), CPU\n")
print("| clip | factor | method | output fps | peak memory (Python process) |")
print("|---|---|---|---|---|")
print("\n".join(rows))
