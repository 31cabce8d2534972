"""Regenerate examples/sample.mp4: 2 s of synthetic motion (textured pan, two crossing sprites) with a tone.

python examples/make_sample.py
"""

import subprocess
from pathlib import Path

from vfi.training.synthetic import make_scene
from vfi.io.encode import EncodeSettings, write_video
from vfi.io.ffmpeg import ffmpeg_exe

here = Path(__file__).parent
silent = here / "sample_silent.mp4"
frames = make_scene("occlusion", h=240, w=320, seed=7).clip(48)
write_video(silent, frames, 24, EncodeSettings(crf=20, preset="slow"))
subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(silent), "-f", "lavfi", "-i",
                "sine=frequency=330:duration=2", "-map", "0:v", "-map", "1:a", "-c:v", "copy",
                "-c:a", "aac", "-b:a", "64k", str(here / "sample.mp4")], check=True)
silent.unlink()
