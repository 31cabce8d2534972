"""Measure `vfi upsample` end to end (decode + interpolate + encode) for every interpolator.

Makes a 720p and a 360p synthetic clip, times the whole command for x2 and x4 with each
method, and prints a Markdown table of output frames per second; `dup` is the floor set by
decoding and encoding alone. All rows come from the same run on the same machine.

    python examples/speed_table.py [--frames 30] [--methods dup,blend,mci,flow,unet,ode]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vfi.synthetic import make_scene
from vfi.video import EncodeSettings, probe, read_frames, write_video

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--frames", type=int, default=30, help="input frames per clip")
parser.add_argument("--methods", default="dup,blend,mci,flow,unet,ode")
parser.add_argument("--sizes", default="1280x720,640x360")
args = parser.parse_args()

methods = args.methods.split(",")
rows = []
with tempfile.TemporaryDirectory() as tmp:
    for size in args.sizes.split(","):
        w, h = map(int, size.split("x"))
        clip = Path(tmp) / f"clip_{h}p.mp4"
        write_video(clip, make_scene("occlusion", h, w, seed=1).clip(args.frames), 30, EncodeSettings(crf=18, preset="fast"))
        for factor in (2, 4):
            cells = []
            for method in methods:
                out = Path(tmp) / "out.mp4"
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "vfi", "upsample", str(clip), "-o", str(out), "--factor", str(factor),
                                "-m", method, "--force", "-q"], check=True)
                seconds = time.perf_counter() - start
                frames = len(read_frames(out))
                cells.append(f"{frames / seconds:.1f}")
            rows.append(f"| {h}p | x{factor} | " + " | ".join(cells) + " |")

print(f"Output frames per second, whole command (`vfi upsample`, libx264 medium, {args.frames} input frames, "
      f"process start included), CPU:\n")
print("| clip | factor | " + " | ".join(methods) + " |")
print("|---|---|" + "---|" * len(methods))
print("\n".join(rows))
