"""Memory of `vfi upsample` over a long 4K input: resident memory must not grow with length.

Generates 3840x2160 clips with audio (ffmpeg's testsrc2 pattern, libx264 ultrafast), runs
`vfi upsample --factor 2` on them and samples the resident memory (RSS) of the whole process
tree (vfi's Python process and its ffmpeg decoder and encoder) twice a second. Prints, per run,
the peak RSS within the first 30 s of the run, the peak over the whole run and the RSS in the
last sample; a length-independent pipeline has the same peak at 30 s as at the end.

    python examples/memory_long_4k.py [--seconds 120] [--flow-seconds 10] [--fps 10]

Defaults: `blend` on a 2-minute clip and on a 30-second one, `flow` on a 10-second one. Not a
CI test: the 2-minute run takes several minutes on 2 CPU cores.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vfi.io.ffmpeg import ffmpeg_exe

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--seconds", type=float, default=120, help="length of the long clip")
parser.add_argument("--short-seconds", type=float, default=30, help="length of the short clip")
parser.add_argument("--flow-seconds", type=float, default=10, help="length of the clip `flow` upsamples")
parser.add_argument("--fps", type=int, default=10, help="input frame rate (10: a 2-minute 4K run takes minutes, not an hour, on 2 cores)")
parser.add_argument("--size", default="3840x2160")
args = parser.parse_args()


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, in kB (from /proc)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        todo += [int(c) for c in children]
    return total


def make_clip(path: Path, seconds: float) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={args.size}:rate={args.fps}:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)], check=True)


def measure(clip: Path, method: str, out: Path) -> dict:
    proc = subprocess.Popen([sys.executable, "-m", "vfi", "upsample", str(clip), "-o", str(out), "--factor", "2",
                             "-m", method, "--preset", "ultrafast", "--force"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    start, samples = time.perf_counter(), []
    while proc.poll() is None:
        samples.append((time.perf_counter() - start, tree_rss_kb(proc.pid)))
        time.sleep(0.5)
    stderr = proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"vfi upsample failed: {stderr.strip()}")
    samples = [s for s in samples if s[1] > 0]
    return {"seconds": time.perf_counter() - start,
            "peak_30s": max(kb for t, kb in samples if t <= 30) / 1024 ** 2,
            "peak": max(kb for _, kb in samples) / 1024 ** 2,
            "last": samples[-1][1] / 1024 ** 2,
            "summary": stderr.strip().splitlines()[-1]}


rows = []
with tempfile.TemporaryDirectory() as tmp:
    for method, seconds in (("blend", args.short_seconds), ("blend", args.seconds), ("flow", args.flow_seconds)):
        clip = Path(tmp) / f"clip_{seconds:g}.mp4"
        if not clip.exists():
            make_clip(clip, seconds)
        result = measure(clip, method, Path(tmp) / "out.mp4")
        print(result["summary"], file=sys.stderr)
        rows.append(f"| {method} | {seconds:g} s ({int(seconds * args.fps)} frames) | {result['seconds']:.0f} s | "
                    f"{result['peak_30s']:.2f} GiB | {result['peak']:.2f} GiB | {result['last']:.2f} GiB |")

print(f"`vfi upsample --factor 2 --preset ultrafast` on {args.size} clips at {args.fps} fps with audio; "
      "RSS of vfi and its ffmpeg processes together\n")
print("| method | input | run time | peak RSS, first 30 s | peak RSS, whole run | RSS at the end |")
print("|---|---|---|---|---|---|")
print("\n".join(rows))
