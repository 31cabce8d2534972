"""Probe facts, frame hashes and timestamps of many inputs, to compare two versions of vfi's reader.

    python examples/reader_hashes.py snapshot new.json --inputs /tmp/reader_inputs [--corpus DIR]
    (with the other version first on PYTHONPATH)  python examples/reader_hashes.py snapshot old.json ...
    python examples/reader_hashes.py compare old.json new.json
    python examples/reader_hashes.py conversion CLIP   # 10-bit 4:2:0 to RGB: PyAV's own against vfi's reader

The generated inputs cover MKV, MP4, MPEG-TS, MPEG-PS, MOV, WebM and an image sequence; B-frames,
NTSC rates, rotation by 90/180/270, interlacing, a header that lies about the rate, variable
rate, video that starts late, 16-bit RGBA and HDR10. Every file is also read from a seek two
thirds in, where the version has seeking.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

MASTER = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"


def make_inputs(folder: Path) -> None:
    from conftest import make_clip, moving_frames
    from vfi.io.encode import EncodeSettings
    from vfi.io.ffmpeg import ffmpeg_exe

    def ff(*args):
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", *map(str, args)], check=True)

    folder.mkdir(parents=True, exist_ok=True)
    lossy = EncodeSettings(crf=18, preset="ultrafast")
    make_clip(folder / "plain.mkv", moving_frames(40, h=96, w=128), settings=lossy)
    make_clip(folder / "audio.mp4", moving_frames(40, h=96, w=128), audio=True, settings=lossy)
    test2 = "testsrc2=s=160x120"
    ff("-f", "lavfi", "-i", f"{test2}:r=24:d=3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "12", folder / "gop.ts")
    ff("-f", "lavfi", "-i", f"{test2}:r=30000/1001:d=3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10",
       "-bf", "2", folder / "ntsc.mp4")
    for degrees, name in ((90, "rotated.mp4"), (180, "rot180.mp4"), (-90, "rot270.mp4")):
        ff("-display_rotation", degrees, "-i", folder / "ntsc.mp4", "-c", "copy", folder / name)
    x = np.arange(160)
    rows = [(128 + 100 * np.sin((x - 6 * i) / 6)).astype(np.uint8) for i in range(50)]
    make_clip(folder / "p50.mkv", [np.broadcast_to(r[None, :, None], (96, 160, 3)) for r in rows], fps=50)
    ff("-i", folder / "p50.mkv", "-vf", "tinterlace=interleave_top,setfield=tff", "-c:v", "libx264", "-flags",
       "+ildct+ilme", "-x264-params", "tff=1", "-qp", "0", "-preset", "ultrafast", "-r", "25", folder / "tff.mp4")
    make_clip(folder / "at30.mkv", moving_frames(25, h=64, w=96), fps=30)
    ff("-i", folder / "at30.mkv", "-c", "copy", "-bsf:v", "setts=ts=N*40", folder / "header30.mkv")
    ff("-f", "lavfi", "-i", "sine=duration=2", "-itsoffset", "0.5", "-i", folder / "plain.mkv", "-map", "1:v",
       "-map", "0:a", "-c:v", "copy", "-c:a", "aac", folder / "late.mp4")
    ff("-f", "lavfi", "-i", "testsrc=size=128x72:rate=24:duration=0.5", "-pix_fmt", "yuv420p10le", "-c:v", "libx265",
       "-preset", "ultrafast", "-x265-params", f"log-level=error:colorprim=bt2020:transfer=smpte2084:"
       f"colormatrix=bt2020nc:master-display={MASTER}:max-cll=1000,400", "-color_primaries", "bt2020",
       "-color_trc", "smpte2084", "-colorspace", "bt2020nc", folder / "hdr10.mkv")
    for fmt, name in (("rgba64le", "rgba16.mkv"), ("rgba", "rgba8.mkv")):
        ff("-f", "lavfi", "-i", f"testsrc2=s=96x64:r=24:d=1,format={fmt}", "-c:v", "ffv1", folder / name)
    ff("-f", "lavfi", "-i", "testsrc2=s=96x64:r=24:d=2", "-vf",
       "setpts='N/24/TB+if(gt(N\\,20)\\,0.2/TB\\,0)+if(gt(N\\,30)\\,0.013/TB\\,0)'", "-fps_mode", "passthrough",
       "-c:v", "libx264", "-preset", "ultrafast", folder / "vfr.mkv")
    (folder / "seq").mkdir(exist_ok=True)
    ff("-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=1", folder / "seq" / "f%03d.png")
    ff("-f", "lavfi", "-i", "testsrc2=s=128x96:r=25:d=2", "-vf", "setsar=4/3", "-c:v", "libx264", "-preset",
       "ultrafast", "-color_range", "pc", "-colorspace", "bt709", folder / "sar_tags.mov")
    ff("-f", "lavfi", "-i", "testsrc2=s=128x96:r=25:d=2", "-c:v", "mpeg2video", "-q:v", "3", folder / "mpeg2.mpg")
    ff("-f", "lavfi", "-i", "testsrc2=s=128x96:r=15:d=2", "-c:v", "libvpx-vp9", "-b:v", "200k", folder / "vp9.webm")


def _frames(reader) -> list:
    return [[str(f.ts), str(f.duration), hashlib.sha1(f.image.tobytes()).hexdigest()[:12], list(f.image.shape),
             str(f.image.dtype)] for f in reader]


def snapshot(inputs: list[Path]) -> dict:
    from vfi.io.decode import FrameReader
    from vfi.io.probe import probe
    try:
        from vfi.io.seek import ReadFrom
    except ImportError:  # a version without seeking
        ReadFrom = None

    result = {}
    for path in inputs:
        entry: dict = {}
        try:
            info = probe(path, ("-framerate", "10") if "%" in path.name else ())
            facts = dataclasses.asdict(info)
            facts.pop("path")
            entry["probe"] = json.loads(json.dumps(facts, default=str))
            reader = FrameReader(info, timed=True, alpha=True)
            entry["frames"] = _frames(reader)
            entry["rate"], entry["origin"] = str(reader.rate), str(reader.origin)
            if info.rotation:
                entry["stored"] = _frames(FrameReader(info.stored(), timed=True))
            if ReadFrom is not None and len(entry["frames"]) > 20:
                needed = Fraction(entry["frames"][len(entry["frames"]) * 2 // 3][0])
                near = ReadFrom(info, needed, reader.origin, alpha=True)
                got = _frames(near)
                entry["seek"] = {"equal_tail": bool(got) and got == entry["frames"][-len(got):],
                                 "starts_in_time": bool(got) and Fraction(got[0][0]) <= needed}
        except Exception as error:
            entry["error"] = f"{type(error).__name__}: {error}"
        result[path.name] = entry
        print(path.name, len(entry.get("frames", [])), entry.get("error", ""), flush=True)
    return result


def compare(old: dict, new: dict) -> int:
    differing = 0
    for name, before in old.items():
        after, notes = new.get(name, {}), []
        for key in ("error", "rate"):
            if before.get(key) != after.get(key):
                notes.append(f"{key}: {before.get(key)} -> {after.get(key)}")
        facts_before, facts_after = before.get("probe", {}), after.get("probe", {})
        for key in sorted(set(facts_before) & set(facts_after)):
            a, b = facts_before[key], facts_after[key]
            if a != b and not (key == "duration" and a and b and abs(a - b) < 0.006):
                notes.append(f"probe.{key}: {a} -> {b}")
        for key in ("frames", "stored"):
            a, b = before.get(key) or [], after.get(key) or []
            if a != b:
                pairs = list(zip(a, b))
                notes.append(f"{key}: {len(a)} -> {len(b)} frames; times differ {sum(x[0] != y[0] for x, y in pairs)}, "
                             f"durations {sum(x[1] != y[1] for x, y in pairs)}, pixels {sum(x[2:] != y[2:] for x, y in pairs)}")
        for side, entry in (("old", before), ("new", after)):
            if entry.get("seek") and not all(entry["seek"].values()):
                notes.append(f"{side} seek: {entry['seek']}")
        if notes:
            differing += 1
            print(name, *notes, sep="\n    ")
    frames = sum(len(entry.get("frames", [])) for entry in old.values())
    print(f"{len(old)} inputs, {frames} frames, {differing} with differences")
    return differing


def conversion(clip: Path) -> None:
    """PSNR against the source of two ways to turn 10-bit 4:2:0 video into 16-bit RGB: PyAV's `to_ndarray`
    and vfi's reader (the command line's bicubic scaler in libav's filter graph). The source: the
    clip's first 3 frames as 16-bit RGB, encoded losslessly by x265 in yuv420p10le."""
    import tempfile

    import av

    from vfi.io.decode import FrameReader, read_frames
    from vfi.io.ffmpeg import ffmpeg_exe
    from vfi.io.probe import probe

    source = np.stack(read_frames(clip, max_frames=3)).astype(np.uint16) * 257
    h, w = source.shape[1:3]
    psnr = lambda a: 10 * np.log10(1 / np.mean((a.astype(np.float64) / 65535 - source / 65535) ** 2))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ten.mkv"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", f"{w}x{h}",
                        "-r", "24", "-i", "-", "-pix_fmt", "yuv420p10le", "-c:v", "libx265", "-x265-params",
                        "lossless=1:log-level=error", str(path)], input=source.astype("<u2").tobytes(), check=True)
        with av.open(str(path)) as container:
            own = np.stack([f.to_ndarray(format="rgb48le") for f in container.decode(video=0)])
        ours = np.stack(list(FrameReader(probe(path))))
    print(f"PyAV to_ndarray {psnr(own):.2f} dB, vfi's reader {psnr(ours):.2f} dB against the source")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["snapshot", "compare", "conversion"])
    parser.add_argument("files", nargs="+", help="snapshot: the JSON to write; compare: old and new JSON; "
                        "conversion: a clip")
    parser.add_argument("--inputs", type=Path, default=Path("/tmp/reader_inputs"), help="where generated inputs go")
    parser.add_argument("--corpus", type=Path, help="a folder of further videos to include")
    args = parser.parse_args()
    if args.mode == "conversion":
        conversion(Path(args.files[0]))
        return
    if args.mode == "compare":
        old, new = (json.loads(Path(f).read_text()) for f in args.files[:2])
        compare(old, new)
        return
    if not (args.inputs / "plain.mkv").exists():
        make_inputs(args.inputs)
    inputs = sorted(p for p in args.inputs.iterdir() if p.is_file()) + [args.inputs / "seq" / "f%03d.png"]
    if args.corpus:
        inputs += sorted(p for p in args.corpus.iterdir() if p.suffix.lower() not in (".md", ".txt"))
    Path(args.files[0]).write_text(json.dumps(snapshot(inputs), indent=1))


if __name__ == "__main__":
    main()
