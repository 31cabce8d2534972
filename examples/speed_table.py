"""Measure `vfi upsample` end to end (decode + interpolate + encode) for every interpolator.

Makes synthetic clips (720p and 360p by default), runs the whole command (x2 and x4 by
default) with each method, and prints a Markdown table of output frames per second:
"pipeline" is the rate the command reports in its summary (probe to finished file), "wall"
also counts the process start (Python and torch imports). `dup` is the floor set by decoding and encoding alone.
All rows come from the same run on the same machine.

    python examples/speed_table.py [--frames 60] [--methods dup,blend,mci,flow,unet,ode]
        [--sizes 1280x720,640x360] [--factors 2,4] [--batch-size 4] [--device auto|cpu|cuda]
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from vfi.training.synthetic import make_scene
from vfi.io.decode import read_frames
from vfi.io.encode import EncodeSettings, write_video

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--frames", type=int, default=60, help="input frames per clip")
parser.add_argument("--methods", default="dup,blend,mci,flow,unet,ode")
parser.add_argument("--sizes", default="1280x720,640x360")
parser.add_argument("--factors", default="2,4")
parser.add_argument("--batch-size", type=int, default=4, help="frame pairs per batch (upsample's -b)")
parser.add_argument("--device", default="auto", help="upsample's --device: auto, cpu or cuda")
args = parser.parse_args()

methods = args.methods.split(",")
rows = []
with tempfile.TemporaryDirectory() as tmp:
    for size in args.sizes.split(","):
        w, h = map(int, size.split("x"))
        clip = Path(tmp) / f"clip_{h}p.mp4"
        write_video(clip, make_scene("occlusion", h, w, seed=1).clip(args.frames), 30, EncodeSettings(crf=18, preset="fast"))
        for factor in map(int, args.factors.split(",")):
            cells = []
            for method in methods:
                out = Path(tmp) / "out.mp4"
                start = time.perf_counter()
                run = subprocess.run([sys.executable, "-m", "vfi", "upsample", str(clip), "-o", str(out), "--factor",
                                      str(factor), "-m", method, "--force",
                                      "-b", str(args.batch_size), "--device", args.device], check=True, capture_output=True, text=True)
                seconds = time.perf_counter() - start
                frames = len(read_frames(out))
                pipeline = float(re.search(r"([\d.]+) output fps", run.stderr).group(1))
                cells.append(f"{pipeline:.1f} ({frames / seconds:.1f})")
            rows.append(f"| {h}p | x{factor} | " + " | ".join(cells) + " |")

device = "CUDA (float16)" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "CPU"
print(f"Output frames per second of `vfi upsample` (libx264 medium, {args.frames} input frames at 30 fps, "
      f"batch {args.batch_size}), {device}: pipeline (wall, process start included)\n")
print("| clip | factor | " + " | ".join(methods) + " |")
print("|---|---|" + "---|" * len(methods))
print("\n".join(rows))
