"""Write labelled windows of synthetic motion for the taught motion's student: photos moved far along
curved paths with sprites crossing them, with exact flows and visibility at every t
(vfi.training.synthetic_labels). Interrupted, it goes on where it stopped.

    python examples/synthesise_motion.py PHOTOS_DIR --out /tmp/synthetic_labels --windows 1500
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vfi.training.device_scenes import DeviceScenes, photo_bank, procedural_bank
from vfi.training.samples import load_photos
from vfi.training.synthetic_labels import synthesise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path, help="A folder of photos (searched recursively); none: procedural texture.")
    parser.add_argument("--out", type=Path, default=Path("/tmp/synthetic_labels"))
    parser.add_argument("--windows", type=int, default=1500)
    parser.add_argument("--side", type=int, default=320, help="Scene side at the working size.")
    parser.add_argument("--max-shift", type=float, default=0.2,
                        help="Largest motion per frame interval, as a fraction of the scene's side.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    photos = load_photos(args.photos) if args.photos.is_dir() else []
    bank = photo_bank(photos, 2 * args.side, "cpu") if photos else \
        procedural_bank(64, 2 * args.side, torch.Generator().manual_seed(args.seed), "cpu")
    print(f"{len(photos)} photos", flush=True)
    scenes = DeviceScenes(bank, max_shift=args.max_shift, blur_share=0.0, view=args.side)
    report = synthesise(args.out, scenes, args.windows, side=args.side, seed=args.seed, log=lambda s: print(s, flush=True))
    print(f"synthesised: {report}")


if __name__ == "__main__":
    main()
