"""How fast `vfi upsample IN -o - -f 2` streams to standard output (NUT, frames uncompressed), the live
preview's case: output frames per second per frame size, beside `dup` (the decoding floor). Real time
for a 30 fps input at x2 is 60 output fps.

    python examples/pipe_speed.py [--methods dup,flow] [--sizes 640x360,960x540,1280x720] [--frames 90]
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from vfi.io.encode import EncodeSettings, write_video
from vfi.training.synthetic import make_scene

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--methods", default="dup,flow")
parser.add_argument("--sizes", default="640x360,960x540,1280x720")
parser.add_argument("--frames", type=int, default=90, help="input frames per clip, at 30 fps")
args = parser.parse_args()

methods = args.methods.split(",")
print("| size | " + " | ".join(methods) + " |")
print("|---|" + "---|" * len(methods))
with tempfile.TemporaryDirectory() as tmp:
    for size in args.sizes.split(","):
        w, h = map(int, size.split("x"))
        clip = Path(tmp) / f"clip_{h}p.mp4"
        write_video(clip, make_scene("occlusion", h, w, seed=1).clip(args.frames), 30, EncodeSettings(crf=18, preset="fast"))
        cells = []
        for method in methods:
            run = subprocess.run([sys.executable, "-m", "vfi", "upsample", str(clip), "-o", "-", "-f", "2", "-m", method],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
            cells.append(re.search(r"([\d.]+) output fps", run.stderr).group(1))
        print(f"| {w}x{h} | " + " | ".join(cells) + " |")
