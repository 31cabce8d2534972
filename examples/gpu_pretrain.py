"""One GPU pretraining run of `ode4` (or `unet`), then the model's speed beside `dup` and `flow`, all under OUT.

Made for a short stay on a CUDA machine that has PyTorch but maybe no ffmpeg: the packed
clips (`examples/pack_training_data.py`) are decoded with OpenCV when imageio-ffmpeg is
missing, batches are made on the GPU (`vfi.training.windows`), the forward runs in bf16,
and the trainer writes the best checkpoint and a resume file at every validation, so a run
cut short still leaves weights. Each log line gives samples/s and the data share of the
step time. Afterwards it times the model alone on 1080p frames through the interface.

    python examples/gpu_pretrain.py DATA OUT [--model ode4|unet] [--minutes 9]
        [--resume OUT_BEFORE/ode4.pt.resume | --init weights/ode4.pt]

On the CPU with `--device cpu --minutes 0.2 --batch-size 2 --crop 64` it runs end to end in
about a minute: the check before spending GPU time.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from vfi.registry import create
from vfi.training.fit import fit

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data", type=Path, help="folder from pack_training_data.py: train/*.mkv and photos/")
parser.add_argument("out", type=Path)
parser.add_argument("--model", default="ode4", choices=("ode4", "unet"), help="the architecture trained")
parser.add_argument("--minutes", type=float, default=9.0)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--crop", type=int, default=224, help="square crops; at most the smallest packed clip side (240)")
parser.add_argument("--lr", type=float, default=5e-4)
parser.add_argument("--device", default="cuda")
parser.add_argument("--resume", type=Path, help="a .resume file: continue with its optimiser, schedule and step")
parser.add_argument("--init", type=Path, help="a checkpoint to start from with a fresh optimiser and schedule")
parser.add_argument("--compile", action="store_true", help="torch.compile the training forward")
parser.add_argument("--speed-frames", type=int, default=24, help="1080p pairs timed per method afterwards")
args = parser.parse_args()
args.out.mkdir(parents=True, exist_ok=True)


def opencv_frames(path: Path, max_frames: int) -> list:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < max_frames:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    if not frames:
        raise SystemExit(f"{path}: OpenCV decoded no frames")
    return frames


try:
    import imageio_ffmpeg  # noqa: F401
    decode = None
except ImportError:
    decode = opencv_frames

if args.device == "cuda":
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}", flush=True)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
clips = sorted((args.data / "train").glob("*.mkv"))
checkpoint = args.out / f"{args.model}.pt"
started = time.perf_counter()
result = fit(clips, checkpoint, model=str(args.init) if args.init else args.model, from_scratch=args.init is None,
             minutes=args.minutes, factor=8, crop=args.crop, batch_size=args.batch_size, lr=args.lr,
             device=args.device, resume=args.resume, photos=args.data / "photos", synthetic=0.5, max_frames=300,
             val_every=500, bf16=True, quiet=True, compile_model=args.compile, decode=decode, device_data=True)
summary = {"train_seconds": round(time.perf_counter() - started, 1), "steps": result["steps"],
           "samples": result["steps"] * args.batch_size, "best_val_psnr": result["best_val_psnr"],
           "flow_val_psnr": result["flow_val_psnr"], "history": result["history"]}
(args.out / "train_summary.json").write_text(json.dumps(summary, indent=1))
print(json.dumps({k: v for k, v in summary.items() if k != "history"}), flush=True)

# the model alone on 1080p pairs, beside dup and flow, in this same run
rng = np.random.default_rng(0)
base = cv2.resize(rng.integers(0, 256, (270, 480, 3), dtype=np.uint8), (1920, 1080), interpolation=cv2.INTER_CUBIC)
frames = [np.roll(base, 6 * i, axis=1) for i in range(4)]
speed = {}
for name in ("dup", "flow", str(checkpoint)):
    model = create(name, device=args.device)
    a, b = np.stack([frames[1]] * 8), np.stack([frames[2]] * 8)
    model.interpolate(a, b, [0.5])  # warm-up (and cuDNN's search)
    if args.device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(max(1, args.speed_frames // 8)):
        model.interpolate(a, b, [0.5])
    if args.device == "cuda":
        torch.cuda.synchronize()
    per_frame = (time.perf_counter() - t0) / (max(1, args.speed_frames // 8) * 8)
    speed[args.model if name == str(checkpoint) else name] = {"ms_per_frame": round(1000 * per_frame, 2),
                                                          "fps": round(1 / per_frame, 1)}
    print(f"model alone, 1080p, batch 8: {name}: {1000 * per_frame:.1f} ms per frame", flush=True)
(args.out / "speed.json").write_text(json.dumps(speed, indent=1))
sys.exit(0)
