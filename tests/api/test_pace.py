"""The render poll pace: the interval at least, longer while steady progress says the end is far."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from joypix_recipes.api.pace import LONGEST_IN_INTERVALS, RenderPace


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
