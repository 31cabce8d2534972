"""How much can fine-tuning on a clip help at all? Train on the held-out frames themselves.

`vfi train` scores its checkpoints on held-out frames of the clip. This script trains the
same way (same base model, crops, loss, learning rate) but draws its training windows from
exactly those held-out frames, then scores the same frames again: an upper bound on what
fine-tuning can reach on them. If even this does not move the score, the limit is what the
network can express, not the recipe or the amount of data.

    python examples/finetune_ceiling.py CLIP [--minutes 5] [--model ode] [--lr 1e-3]
"""

import argparse

import numpy as np

from vfi.training.samples import ClipWindows, random_crop, shrink_sample
from vfi.training.fit import VAL_WINDOWS_PER_CLIP, base_checkpoint, default_crop, validation_samples
from vfi.models.architectures import ARCHITECTURES
from vfi.motion.scale import NETWORK_MAX_SIDE
from vfi.training.trainer import TrainConfig, Trainer

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("clip")
parser.add_argument("--minutes", type=float, default=5.0)
parser.add_argument("--model", default="ode")
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--holdout-every", type=int, default=3, help="as `vfi train --holdout-every`")
parser.add_argument("--output", default="ceiling.pt")
args = parser.parse_args()


class HeldOutWindows:
    """Training windows drawn from the validation frames (what a normal run never trains on)."""

    def __init__(self, samples, shrink):
        self.samples = [shrink_sample(s, shrink) for s in samples]

    def sample(self, rng, crop, neighbours=True):
        s = self.samples[int(rng.integers(len(self.samples)))]
        return random_crop(s if neighbours else s.alone(), crop, rng)


arch, init = base_checkpoint(args.model, from_scratch=False)
work_side = NETWORK_MAX_SIDE if ARCHITECTURES[arch].reduced else None
clip = ClipWindows(args.clip, strides=(2,), holdout_every=args.holdout_every, work_side=work_side)
val = validation_samples([clip], (2,), VAL_WINDOWS_PER_CLIP, np.random.default_rng(0))
windows = HeldOutWindows(val, clip.shrink)
crop = default_crop([clip])  # as `vfi train` picks it
config = TrainConfig(arch=arch, init=init, minutes=args.minutes, crop=crop, lr=args.lr, synthetic_fraction=0.0,
                     val_every=100)
trainer = Trainer(config, [windows], None, val, args.output)
print(f"{len(val)} held-out frames; before: {trainer.start():.2f} dB", flush=True)
result = trainer.run(lambda e: print(f"step {e['step']}: {e['val_psnr']:.2f} dB", flush=True) if "val_psnr" in e else None)
print(f"trained on the held-out frames themselves for {result['steps']} steps: "
      f"{trainer.history[0]['val_psnr']:.2f} -> {result['best_val_psnr']:.2f} dB")
