"""Score a frame-rate conversion (say 24000/1001 -> 60 fps) on generated scenes with exact ground truth.

`vfi benchmark` drops frames and puts them back (integer factors); a conversion such as film
to 60 fps puts new frames at other times, and the pairs then need varying numbers of them.
Here every scene of the CI suite is rendered at the input rate, converted through
`upsample`'s own streaming code, and each output frame that falls between two input frames
is compared with the scene rendered exactly at its time. Prints the mean PSNR per method.

    python examples/fps_conversion_quality.py [--fps-in 24000/1001] [--fps-out 60]
        [--frames 25] [--seeds 2] [--methods flow,ode]
"""

import argparse
from fractions import Fraction

import numpy as np

from vfi.core.metrics import psnr
from vfi.pipeline.stream import interpolate_stream
from vfi.registry import create
from vfi.training.synthetic import SCENES, make_scene
from vfi.io.decode import TimedFrame

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fps-in", default="24000/1001", help="input frame rate, a fraction")
parser.add_argument("--fps-out", default="60", help="output frame rate, a fraction")
parser.add_argument("--frames", type=int, default=25, help="input frames per scene")
parser.add_argument("--seeds", type=int, default=2, help="scenes drawn per kind")
parser.add_argument("--methods", default="flow,ode")
args = parser.parse_args()
rate_in, rate_out = Fraction(args.fps_in), Fraction(args.fps_out)

for method in args.methods.split(","):
    per_scene = []
    for name in SCENES:
        for seed in range(args.seeds):
            scene = make_scene(name, 160, 224, seed=seed)
            frames = [TimedFrame(i / rate_in, 1 / rate_in, scene.render(float(i))) for i in range(args.frames)]
            scores = []
            for k, out in enumerate(interpolate_stream(frames, rate_out, create(method), batch_size=4)):
                at = k / rate_out * rate_in  # in input frames
                if at >= args.frames - 1:
                    break
                if at.denominator != 1:  # an input frame passed through is not scored
                    scores.append(psnr(out, scene.render(float(at))))
            per_scene.append(float(np.mean(scores)))
    print(f"{method}: {np.mean(per_scene):.2f} dB mean over {len(per_scene)} scenes "
          f"({args.fps_in} -> {args.fps_out} fps)")
