"""The render poll pace: the interval at least, longer while steady progress says the end is far."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joypix_recipes.api.pace import (
    EXPECTED_AIM,
    LONGEST_IN_INTERVALS,
    REMEMBERED_RENDERS,
    RenderPace,
    RenderTimes,
)


def test_without_progress_the_pace_is_the_interval() -> None:
    pace = RenderPace(2.0)
    assert [pace.next_wait(0.0, now) for now in (0.0, 2.0, 4.0)] == [2.0, 2.0, 2.0]


def test_steady_progress_waits_most_of_the_predicted_remainder() -> None:
    pace = RenderPace(1.0)
    assert pace.next_wait(10.0, 0.0) == 1.0  # one figure is no rate yet
    # 10% -> 20% in 2 s: 80% left takes 16 s; capped at the longest wait.
    assert pace.next_wait(20.0, 2.0) == LONGEST_IN_INTERVALS * 1.0
    # 10% -> 90% in 16 s: 10% left takes 2 s; aim short of it.
    assert 1.0 < pace.next_wait(90.0, 16.0) < 2.0


def test_progress_that_goes_back_measures_again_from_there() -> None:
    pace = RenderPace(1.0)
    pace.next_wait(50.0, 0.0)
    assert pace.next_wait(5.0, 1.0) == 1.0
    assert pace.next_wait(10.0, 2.0) > 1.0


def test_stalled_progress_keeps_the_interval() -> None:
    pace = RenderPace(0.5)
    pace.next_wait(40.0, 0.0)
    assert pace.next_wait(40.0, 5.0) == 0.5


@given(
    interval=st.floats(0.01, 60.0),
    polls=st.lists(st.tuples(st.floats(-10.0, 200.0), st.floats(0.0, 1e4)), max_size=30),
)
def test_the_wait_is_never_shorter_than_the_interval_nor_longer_than_the_cap(
    interval: float, polls: list[tuple[float, float]]
) -> None:
    pace = RenderPace(interval)
    now = 0.0
    for progress, step in polls:
        now += step
        wait = pace.next_wait(progress, now)
        assert interval <= wait <= interval * LONGEST_IN_INTERVALS


def test_a_render_without_progress_aims_short_of_the_end_recent_renders_predict() -> None:
    times = RenderTimes()
    pace = RenderPace(0.1, posted_at=100.0, times=times)
    assert pace.first_wait() == 0.1  # nothing has ended yet: one interval
    times.add(0.6)
    times.add(0.5)  # the quickest recent render is the guess
    assert pace.first_wait() == pytest.approx(EXPECTED_AIM * 0.5)
    assert pace.next_wait(0.0, 100.3) == pytest.approx(EXPECTED_AIM * 0.2)
    assert pace.next_wait(0.0, 100.45) == 0.1  # close to the end: never under the interval
    assert pace.next_wait(0.0, 105.0) == 0.1  # past every estimate: the plain interval
    times.add(0.4)
    assert pace.next_wait(0.0, 100.0) == pytest.approx(EXPECTED_AIM * 0.4)  # renders in flight learn at once


def test_a_long_expected_render_is_still_polled_every_few_intervals() -> None:
    times = RenderTimes()
    times.add(60.0)
    pace = RenderPace(0.1, posted_at=0.0, times=times)
    assert pace.first_wait() == LONGEST_IN_INTERVALS * 0.1  # a quicker render of a mixed batch is not missed long


def test_a_render_found_in_a_ledger_is_polled_at_once_and_at_the_interval() -> None:
    times = RenderTimes()
    times.add(5.0)
    pace = RenderPace(0.5, times=times)  # not posted by this client: its start is unknown
    assert pace.first_wait() == 0.0
    assert pace.next_wait(0.0, 1.0) == 0.5


def test_progress_figures_win_over_what_earlier_renders_took() -> None:
    times = RenderTimes()
    times.add(100.0)
    pace = RenderPace(1.0, posted_at=0.0, times=times)
    assert pace.next_wait(10.0, 1.0) == LONGEST_IN_INTERVALS * 1.0  # one figure: the history speaks
    assert pace.next_wait(90.0, 2.0) == 1.0  # 80% in 1 s: the end is near, whatever earlier renders took


def test_render_times_keep_only_recent_positive_durations() -> None:
    times = RenderTimes()
    assert times.expected_s is None
    times.add(0.0)
    assert times.expected_s is None
    for seconds in [0.5] + [2.0] * REMEMBERED_RENDERS:
        times.add(seconds)
    assert times.expected_s == 2.0  # the quick one has been forgotten
