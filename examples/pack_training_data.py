"""Pack the pretraining data small enough to travel with the repository to a GPU machine.

Each training clip is cut to its first `--max-frames` frames, shrunk as `ode4` shrinks it
before it estimates motion (long side at most 640, by a power of two), and re-encoded
near-losslessly (x264, crf 10); each photo becomes its 512 x 512 centre square (JPEG, q 95),
the size the device renderer uses. The clips' training/validation split is the same as
from the originals (it depends only on the frame count).

    python examples/pack_training_data.py ../shared/corpus PHOTOS OUT [--max-frames 300]
"""

import argparse
from fractions import Fraction
from pathlib import Path

import cv2

from vfi.io.decode import read_frames
from vfi.io.encode import EncodeSettings, write_video
from vfi.io.probe import probe
from vfi.motion.scale import NETWORK_MAX_SIDE, working_downscale
from vfi.training.samples import load_photos

TRAINING_CLIPS = ("vtest.avi ball_drop.avi explainer.mp4 screencast.mp4 planets.avi paws.mpg puck_force.avi "
                  "pucks_magnet.ogv blupi_history2.mkv blupi_play101.mkv blupi_play103.mkv blupi_play105.mkv "
                  "blupi_play107.mkv blupi_play108.mkv blupi_play110.mkv blupi_play116.mkv blupi_play118.mkv "
                  "blupi_play124.mkv blupi_win005.mkv").split()

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("corpus", type=Path)
parser.add_argument("photos", type=Path)
parser.add_argument("out", type=Path)
parser.add_argument("--max-frames", type=int, default=300)
parser.add_argument("--clips", default=",".join(TRAINING_CLIPS), help="comma-separated clip names in CORPUS")
args = parser.parse_args()

(args.out / "train").mkdir(parents=True, exist_ok=True)
(args.out / "photos").mkdir(parents=True, exist_ok=True)
for name in args.clips.split(","):
    path = args.corpus / name
    fps = Fraction(probe(path).fps)
    frames = read_frames(path, max_frames=args.max_frames)
    h, w = frames[0].shape[:2]
    ds = working_downscale(h, w, NETWORK_MAX_SIDE)
    if ds > 1:
        frames = [cv2.resize(f, (w // ds, h // ds), interpolation=cv2.INTER_AREA) for f in frames]
    out = args.out / "train" / (Path(name).stem + ".mkv")
    write_video(out, frames, fps, EncodeSettings(crf=10, preset="slow"))
    print(f"{out}: {len(frames)} frames at {frames[0].shape[1]}x{frames[0].shape[0]}, {out.stat().st_size / 1e6:.1f} MB")
for i, photo in enumerate(load_photos(args.photos)):
    h, w = photo.shape[:2]
    s = min(h, w)
    square = cv2.resize(photo[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s], (512, 512),
                        interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(args.out / "photos" / f"photo_{i:03d}.jpg"), cv2.cvtColor(square, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 95])
print(f"{args.out}: {sum(f.stat().st_size for f in args.out.rglob('*') if f.is_file()) / 1e6:.1f} MB in all")
