from fractions import Fraction

import pytest

from vfi.schedule import output_frame_count, resolve_ratio, times_for_pair


@pytest.mark.parametrize("factor", [2, 3, 4, 8])
def test_factor_places_real_frames_at_multiples_and_even_times_between(factor):
    ratio, fps = resolve_ratio(Fraction(25), factor, None)
    assert fps == 25 * factor
    for i in range(5):
        assert times_for_pair(i, ratio) == [Fraction(j, factor) for j in range(factor)]
    assert output_frame_count(10, ratio) == 10 * factor


def test_24_to_60_gives_exact_times_and_count():
    ratio, fps = resolve_ratio(Fraction(24), None, Fraction(60))
    assert ratio == Fraction(5, 2)
    assert times_for_pair(0, ratio) == [0, Fraction(2, 5), Fraction(4, 5)]
    assert times_for_pair(1, ratio) == [Fraction(1, 5), Fraction(3, 5)]
    all_times = [i + t for i in range(24) for t in times_for_pair(i, ratio)]
    assert len(all_times) == output_frame_count(24, ratio) == 60
    assert all_times == [Fraction(k, 60) * 24 for k in range(60)]


def test_ntsc_rates_stay_exact_over_an_hour():
    ratio, fps = resolve_ratio(Fraction(30000, 1001), None, Fraction(60000, 1001))
    assert ratio == 2 and fps == Fraction(60000, 1001)
    frames_in_an_hour = 107892
    assert output_frame_count(frames_in_an_hour, ratio) == 2 * frames_in_an_hour


@pytest.mark.parametrize("factor, fps, message", [(1, None, "at least 2"), (None, Fraction(20), "is below"), (None, None, "exactly one")])
def test_bad_rate_requests_are_refused(factor, fps, message):
    with pytest.raises(ValueError, match=message):
        resolve_ratio(Fraction(24), factor, fps)


def test_uneven_timestamps_place_each_output_frame_by_its_real_time():
    from vfi.schedule import instants_between, times_between

    # input frames at 0 and 2/30 s (one dropped between), output at 30 fps: frame 1 lies half-way
    assert list(instants_between(Fraction(0), Fraction(2, 30), Fraction(30))) == [0, 1]
    assert times_between(Fraction(0), Fraction(2, 30), Fraction(30)) == [0, Fraction(1, 2)]
    # the constant-rate case is the same arithmetic in input-frame units
    assert times_between(Fraction(3), Fraction(4), Fraction(5, 2)) == times_for_pair(3, Fraction(5, 2))
