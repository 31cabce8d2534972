"""Inputs beyond 8-bit video files: deep colour, image sequences with alpha, single pairs, folders, big frames."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import make_clip, moving_frames, vfi
from vfi.classic import FlowWarp
from vfi.io.images import read_image, write_image
from vfi.core.metrics import psnr
from vfi.training.synthetic import make_scene
from vfi.core.tiles import Tiled, tile_starts, tile_weights
from vfi.io.decode import FrameReader, read_frames
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.probe import probe



# -- high bit depth ----------------------------------------------------------------------------------

def gradient_clip(path: Path, frames: int = 6, h: int = 32, w: int = 256) -> Path:
    """A slowly moving 10-bit grey ramp spanning 64 levels: 8 bits would leave 16 of them."""
    x = np.arange(w, dtype=np.float64)
    raw = b""
    for i in range(frames):
        level = np.floor(400 + 64 * (x + 8 * i) / w).astype(np.uint16)  # 10-bit values
        frame = np.repeat(np.repeat((level << 6)[None, :, None], h, axis=0), 3, axis=2)
        raw += frame.astype("<u2").tobytes()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", f"{w}x{h}",
                    "-framerate", "24", "-i", "-", "-c:v", "ffv1", "-pix_fmt", "gbrp10le", str(path)],
                   input=raw, check=True)
    return path


def test_ten_bit_input_stays_ten_bit_without_banding(tmp_path):
    src = gradient_clip(tmp_path / "ramp.mkv")
    assert probe(src).high_bit_depth
    out = tmp_path / "out.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--codec", "ffv1")
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert info.high_bit_depth
    frames = list(FrameReader(info))
    assert frames[1].dtype == np.uint16
    row = frames[1][16, :, 1]  # an interpolated frame
    assert len(np.unique(row)) > 40  # 8-bit banding would leave at most 17 distinct levels


def test_ten_bit_input_defaults_to_ten_bit_hevc_and_eight_bit_stays_eight(tmp_path):
    src = gradient_clip(tmp_path / "ramp.mkv")
    out = tmp_path / "out.mp4"
    assert vfi("upsample", src, "-o", out, "-f", "2").exit_code == 0
    assert probe(out).codec == "hevc" and probe(out).pix_fmt.startswith("yuv420p10")
    plain = make_clip(tmp_path / "plain.mp4", moving_frames(4))
    out8 = tmp_path / "out8.mp4"
    assert vfi("upsample", plain, "-o", out8, "-f", "2").exit_code == 0
    assert probe(out8).codec == "h264" and probe(out8).pix_fmt == "yuv420p"


@pytest.mark.parametrize("model", ["select", "flow", "ode", "blend", "dup", "mci"])
def test_every_path_accepts_sixteen_bit_frames(model):
    from vfi.registry import create

    frames = moving_frames(2, h=64, w=96)
    deep = [f.astype(np.uint16) * 257 for f in frames]
    out = create(model).interpolate(deep[0][None], deep[1][None], [0.5])
    eight = create(model).interpolate(frames[0][None], frames[1][None], [0.5])
    assert out.dtype == np.uint16 and out.shape == (1, 1, 64, 96, 3)
    assert np.abs((out[0, 0] / 257.0) - eight[0, 0]).mean() < 1.0  # the same picture, in more bits


# -- image sequences, alpha ---------------------------------------------------------------------------

def sprite_frames(n: int, h: int = 64, w: int = 96) -> list[np.ndarray]:
    """An opaque textured square moving 4 px a frame over a transparent background."""
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)
    frames = []
    for i in range(n):
        f = np.zeros((h, w, 4), np.uint8)
        x = 10 + 4 * i
        f[22:42, x:x + 20, :3] = texture
        f[22:42, x:x + 20, 3] = 255
        frames.append(f)
    return frames


def alpha_centre(frame: np.ndarray) -> float:
    a = frame[..., 3].astype(np.float64)
    return float((a.sum(0) * np.arange(a.shape[1])).sum() / a.sum())


def png_sequence(folder: Path, frames) -> Path:
    """frames as folder/00001.png, 00002.png, ...; returns the folder."""
    folder.mkdir()
    for i, f in enumerate(frames):
        write_image(folder / f"{i + 1:05d}.png", f)
    return folder


def test_png_sequence_in_and_out_keeps_alpha_moving_with_the_colour(tmp_path):
    src = png_sequence(tmp_path / "frames", sprite_frames(6))
    out = tmp_path / "out"
    out.mkdir()
    result = vfi("upsample", src / "%05d.png", "-o", out / "%05d.png", "-f", "2", "--input-fps", "12")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{i:05d}.png" for i in range(1, 13)]
    frames = [read_image(out / name) for name in names]
    assert all(f.shape == (64, 96, 4) for f in frames)
    centres = [alpha_centre(f) for f in frames[:10]]
    assert np.allclose(np.diff(centres), 2.0, atol=0.3)  # half-way frames put the alpha half-way
    assert vfi("upsample", src / "%05d.png", "-o", out / "%05d.png", "-f", "2").exit_code == 1  # exists: --force


def test_interpolate_a_pair_of_images_at_given_times(tmp_path):
    a, b = sprite_frames(5)[0], sprite_frames(5)[4]  # 16 px apart
    write_image(tmp_path / "a.png", a)
    write_image(tmp_path / "b.png", b)
    result = vfi("interpolate", tmp_path / "a.png", tmp_path / "b.png", "--times", "0.25,0.5,0.75",
                 "-o", tmp_path / "mid_%d.png")
    assert result.exit_code == 0, result.output
    mids = [read_image(tmp_path / f"mid_{i}.png") for i in (1, 2, 3)]
    assert [round(alpha_centre(m)) for m in mids] == [round(alpha_centre(a)) + d for d in (4, 8, 12)]
    bad = vfi("interpolate", tmp_path / "a.png", tmp_path / "b.png", "--times", "1.5", "-o", tmp_path / "x_%d.png")
    assert bad.exit_code == 1 and "between 0 and 1" in bad.output


# -- folders ----------------------------------------------------------------------------------------------

def test_folder_of_videos_skips_finished_ones_and_reports_failures_at_the_end(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    dst.mkdir()
    make_clip(src / "a.mp4", moving_frames(6))
    make_clip(src / "b.mkv", moving_frames(6, seed=1))
    (src / "broken.mp4").write_bytes(b"not a video at all")
    result = vfi("upsample", src, "-o", dst, "-f", "2", "-m", "blend")
    assert result.exit_code == 1
    assert "2 done, 0 already done (skipped), 1 failed" in result.output and "broken.mp4" in result.output
    assert sorted(p.name for p in dst.iterdir()) == ["a.mp4", "b.mkv"]
    assert len(read_frames(dst / "b.mkv")) == 12
    again = vfi("upsample", src, "-o", dst, "-f", "2", "-m", "blend")
    assert "0 done, 2 already done (skipped), 1 failed" in again.output


# -- big frames ---------------------------------------------------------------------------------------------

def test_tile_helpers_cover_the_frame_and_weights_sum_to_one_inside():
    assert tile_starts(100, 100, 10) == [0]
    starts = tile_starts(1000, 400, 100)
    assert starts[0] == 0 and starts[-1] == 600 and all(b - a <= 300 for a, b in zip(starts, starts[1:]))
    total = np.zeros((300, 1000), np.float32)
    for x in starts:
        total[:, x:x + 400] += tile_weights(300, 1000, 0, x, 300, 400, 100)
    assert total.min() > 0  # every pixel is covered by some tile
    last = tile_weights(300, 1000, 0, 600, 300, 400, 100)  # the last tile shares only its left edge
    assert last[:, 100:].min() == 1  # the frame's own border is not faded
    assert last[0, 0] < 0.01 and (np.diff(last[0, :100]) > 0).all()  # the shared edge fades in


def test_tiling_changes_no_pixel_of_what_each_tile_returns():
    """Tiles are cut, blended back with their ramps and renormalised: identity in, identity out."""
    from vfi.classic import Duplicate

    frame = np.random.default_rng(1).integers(0, 256, (1, 256, 384, 4), dtype=np.uint8)
    out = Tiled(Duplicate(), tile=160).interpolate(frame, frame[:, ::-1], [0.5])
    assert np.array_equal(out[:, 0], frame)


@pytest.mark.parametrize("model", ["unet", "select"])  # a float-tensor model (what tiles are for); the default
@pytest.mark.parametrize("scene_name", ["translate", "occlusion", "zoom"])
def test_tiled_output_matches_untiled_within_a_tenth_of_a_db(scene_name, model):
    from vfi.registry import create

    interpolator = create(model)
    scene = make_scene(scene_name, 256, 384, seed=3)
    f0, f1, truth = scene.render(0.0), scene.render(1.0), scene.render(0.5)
    whole = interpolator.interpolate(f0[None], f1[None], [0.5])[0, 0]
    tiled = Tiled(interpolator, tile=160).interpolate(f0[None], f1[None], [0.5])[0, 0]
    assert abs(psnr(tiled, truth) - psnr(whole, truth)) < 0.1
    assert psnr(tiled, whole) > 45  # no seams: the pictures themselves agree


def test_automatic_tiles_only_above_4k_and_only_for_float_models():
    from vfi.registry import create

    assert Tiled(create("unet")).tile_size(2160, 3840) == 0
    assert Tiled(create("unet")).tile_size(4320, 7680) > 0
    assert Tiled(FlowWarp()).tile_size(4320, 7680) == 0  # motion at reduced scale, integer warps


def test_motion_scale_option_is_honoured():
    from vfi.registry import create

    frames = moving_frames(2, h=128, w=192)
    fine = create("flow", scale=1.0).interpolate(frames[0][None], frames[1][None], [0.5])
    coarse = create("flow", scale=0.25).interpolate(frames[0][None], frames[1][None], [0.5])
    assert fine.shape == coarse.shape and not np.array_equal(fine, coarse)


def test_png_sequence_into_a_video_file(tmp_path):
    src = png_sequence(tmp_path / "frames", moving_frames(6))
    out = tmp_path / "out.mkv"
    result = vfi("upsample", src / "%05d.png", "-o", out, "-f", "2", "--input-fps", "24", "--lossless")
    assert result.exit_code == 0, result.output
    frames = read_frames(out)
    assert len(frames) == 12 and probe(out).fps == 48
    assert np.array_equal(frames[2], moving_frames(6)[1])


def test_interpolate_a_pair_of_different_bit_depths(tmp_path):
    a, b = moving_frames(2)
    write_image(tmp_path / "a.png", a)
    write_image(tmp_path / "b.png", b.astype(np.uint16) * 257)
    result = vfi("interpolate", tmp_path / "a.png", tmp_path / "b.png", "-m", "blend", "-o", tmp_path / "m_%d.png")
    assert result.exit_code == 0, result.output
    mid = read_image(tmp_path / "m_1.png")
    assert mid.dtype == np.uint16
    expected = (a.astype(np.float64) + b) / 2 * 257
    assert np.abs(mid - expected).max() <= 257  # the blend of the two images, not of one with itself
