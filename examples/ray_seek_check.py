"""How much decoding `--ray` costs on a long input, and whether its frames equal the plain run's.

Generates a long clip (ffmpeg's testsrc2 at 320x240, 24 fps, with a key frame every --gop
frames and B-frames), then runs `vfi upsample -f 2 -m dup --lossless` on it plainly and with
`--ray` (a local Ray), one after the other, each in a fresh process, and compares the two
outputs frame by frame by ffmpeg's per-frame MD5. Prints the wall times, vfi's summary line
(which with --ray counts the input frames decoded in all) and whether the frames are equal.

    python examples/ray_seek_check.py [--frames 12000] [--gop 48] [--part-frames 600] [--keep DIR]

Only the ffmpeg of imageio-ffmpeg and the `vfi` command are used, so the same script measures
an older checkout too (PYTHONPATH=OLD_CHECKOUT python examples/ray_seek_check.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg


def run(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    return time.perf_counter() - started, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""


def frame_hashes(path: Path) -> list[str]:
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=12000)
    parser.add_argument("--gop", type=int, default=48, help="Frames from one key frame to the next.")
    parser.add_argument("--part-frames", type=int, default=600)
    parser.add_argument("--keep", type=Path, help="Keep the clip and the outputs in this folder.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"long_{args.frames}_g{args.gop}.mp4"
    if not clip.exists():
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size=320x240:rate=24:duration={args.frames / 24}", "-c:v", "libx264",
                        "-g", str(args.gop), "-bf", "2", "-crf", "20", "-preset", "veryfast", str(clip)], check=True)
    vfi = [sys.executable, "-m", "vfi", "upsample", str(clip), "-f", "2", "-m", "dup", "--lossless",
           "--part-frames", str(args.part_frames), "--force"]
    plain_time, plain_line = run([*vfi, "-o", str(folder / "plain.mkv")])
    ray_time, ray_line = run([*vfi, "-o", str(folder / "ray.mkv"), "--ray"])
    equal = frame_hashes(folder / "plain.mkv") == frame_hashes(folder / "ray.mkv")
    print(f"input: {args.frames} frames, key frame every {args.gop}; parts of {args.part_frames} output frames")
    print(f"plain: {plain_time:.1f} s  | {plain_line}")
    print(f"--ray: {ray_time:.1f} s  | {ray_line}")
    print(f"frames equal: {equal}")
    if not args.keep:
        for path in folder.iterdir():
            os.unlink(path)
        folder.rmdir()


if __name__ == "__main__":
    main()
