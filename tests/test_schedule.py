from fractions import Fraction

import pytest

from vfi.pipeline.schedule import MAX_FPS, MAX_RATIO, instants_between, resolve_rates, times_between


def times_for_pair(i: int, ratio: Fraction) -> list[Fraction]:
    """t of each output frame between input frames i and i + 1 of a constant-rate video."""
    return times_between(Fraction(i), Fraction(i + 1), ratio)


def output_frame_count(input_frames: int, ratio: Fraction) -> int:
    """Output frames that cover input_frames frame intervals."""
    return len(instants_between(Fraction(0), Fraction(input_frames), ratio))


@pytest.mark.parametrize("factor", [2, 3, 4, 8])
def test_factor_places_real_frames_at_multiples_and_even_times_between(factor):
    rates = resolve_rates(Fraction(25), factor, None)
    ratio = rates.stream / 25
    assert rates.output == rates.stream == 25 * factor
    for i in range(5):
        assert times_for_pair(i, ratio) == [Fraction(j, factor) for j in range(factor)]
    assert output_frame_count(10, ratio) == 10 * factor


def test_24_to_60_gives_exact_times_and_count():
    ratio = resolve_rates(Fraction(24), None, Fraction(60)).stream / 24
    assert ratio == Fraction(5, 2)
    assert times_for_pair(0, ratio) == [0, Fraction(2, 5), Fraction(4, 5)]
    assert times_for_pair(1, ratio) == [Fraction(1, 5), Fraction(3, 5)]
    all_times = [i + t for i in range(24) for t in times_for_pair(i, ratio)]
    assert len(all_times) == output_frame_count(24, ratio) == 60
    assert all_times == [Fraction(k, 60) * 24 for k in range(60)]


def test_ntsc_rates_stay_exact_over_an_hour():
    rates = resolve_rates(Fraction(30000, 1001), None, Fraction(60000, 1001))
    ratio = rates.stream / Fraction(30000, 1001)
    assert ratio == 2 and rates.output == Fraction(60000, 1001)
    frames_in_an_hour = 107892
    assert output_frame_count(frames_in_an_hour, ratio) == 2 * frames_in_an_hour


@pytest.mark.parametrize("factor, fps, message", [(1, None, "at least 2"), (None, Fraction(20), "is below"),
                                                  (None, None, "give --factor"), (2, Fraction(60), "not both")])
def test_bad_rate_requests_are_refused(factor, fps, message):
    with pytest.raises(ValueError, match=message):
        resolve_rates(Fraction(24), factor, fps)


@pytest.mark.parametrize("source, factor, fps, limit", [(25, 1000, None, f"limit of {MAX_RATIO}"),
                                                        (25, None, Fraction(10**9), f"limit of {MAX_RATIO}"),
                                                        (100, None, Fraction(2000), f"limit of {MAX_FPS} fps")])
def test_absurd_rates_are_refused_naming_the_limit_unless_forced(source, factor, fps, limit):
    with pytest.raises(ValueError, match=limit):
        resolve_rates(Fraction(source), factor, fps)
    assert resolve_rates(Fraction(source), factor, fps, force=True).stream > MAX_FPS


def test_slow_motion_interpolates_more_frames_and_plays_them_at_the_output_rate():
    rates = resolve_rates(Fraction(30), slowmo=Fraction(4))
    assert (rates.stream, rates.output) == (120, 30)  # 4x the frames, played at the input's rate
    rates = resolve_rates(Fraction(24), fps=Fraction(60), slowmo=Fraction(2))
    assert (rates.stream, rates.output) == (120, 60)
    with pytest.raises(ValueError, match="at least 1"):
        resolve_rates(Fraction(30), slowmo=Fraction(1, 2))


def test_uneven_timestamps_place_each_output_frame_by_its_real_time():
    # input frames at 0 and 2/30 s (one dropped between), output at 30 fps: frame 1 lies half-way
    assert list(instants_between(Fraction(0), Fraction(2, 30), Fraction(30))) == [0, 1]
    assert times_between(Fraction(0), Fraction(2, 30), Fraction(30)) == [0, Fraction(1, 2)]
    # the constant-rate case is the same arithmetic in input-frame units: 24 -> 60 fps, pair 3
    assert times_between(Fraction(3, 24), Fraction(4, 24), Fraction(60)) == times_for_pair(3, Fraction(5, 2))
