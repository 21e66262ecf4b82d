"""Export settings: frame rates are exact fractions however they are written, and survive JSON."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joypix_recipes.job.export import ExportSettings, fps_label, parse_fps
from joypix_recipes.timeline.draft import Draft, VideoClip


@pytest.mark.parametrize(
    ("written", "rate"),
    [
        (30, Fraction(30)),
        (29.97, Fraction(30000, 1001)),
        ("29.97", Fraction(30000, 1001)),
        ("30000/1001", Fraction(30000, 1001)),
        (23.976, Fraction(24000, 1001)),
        ("24000/1001", Fraction(24000, 1001)),
        (59.94, Fraction(60000, 1001)),
        (119.88, Fraction(120000, 1001)),
        (50, Fraction(50)),
        (15, Fraction(15)),
        (12.5, Fraction(25, 2)),
        (1, Fraction(1)),
        (120, Fraction(120)),
    ],
)
def test_rates_are_exact_fractions_with_ntsc_decimals_meaning_n_times_1000_over_1001(
    written: object, rate: Fraction
) -> None:
    assert parse_fps(written) == rate


@pytest.mark.parametrize("written", [0, 0.5, 121, "240000/1001", "1/0", "fast", True, None, [30]])
def test_rates_out_of_range_or_unreadable_are_refused_with_a_sentence(written: object) -> None:
    with pytest.raises(ValueError, match="frame rate|out of range"):
        parse_fps(written)


@pytest.mark.parametrize("rate", [Fraction(30000, 1001), Fraction(24000, 1001), Fraction(60000, 1001), Fraction(25, 2)])
def test_settings_and_drafts_keep_the_exact_rate_through_json(rate: Fraction) -> None:
    settings = ExportSettings(fps=rate)
    assert ExportSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    draft = Draft(fps=rate, video=(VideoClip("a.jpg", duration_ms=2000),))
    assert Draft.from_json(json.loads(json.dumps(draft.to_json()))).fps == rate


def test_whole_rates_stay_whole_numbers_in_json_so_existing_job_identities_hold() -> None:
    assert ExportSettings(fps=30).to_dict()["fps"] == 30
    assert isinstance(ExportSettings(fps=30).to_dict()["fps"], int)
    assert Draft(fps=24).to_json()["m"]["fps"] == 24


def test_two_seconds_at_29_97_is_sixty_frames() -> None:
    assert Draft(fps=parse_fps(29.97), video=(VideoClip("a.jpg", duration_ms=2000),)).frame_count == 60


def test_labels_read_as_people_write_rates() -> None:
    assert [fps_label(parse_fps(value)) for value in (30, "30000/1001", 23.976, 12.5)] == ["30", "29.97", "23.976", "12.5"]


@given(st.fractions(min_value=1, max_value=120, max_denominator=100_000))
def test_every_rate_in_range_reads_back_exactly_from_its_json_form(rate: Fraction) -> None:
    assert parse_fps(json.loads(json.dumps(ExportSettings(fps=rate).to_dict()))["fps"]) == rate


def test_a_decimal_just_above_one_is_not_snapped_to_an_ntsc_rate_below_the_floor() -> None:
    assert parse_fps(1.00390625) == Fraction(1.00390625).limit_denominator(1001)
    assert parse_fps(1.00390625) >= 1
