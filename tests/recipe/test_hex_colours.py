"""A ``#RRGGBB`` or ``#RRGGBBAA`` colour is read without Pillow, and must read exactly as Pillow reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import ImageColor

from joypix_recipes.job.kinds.captions import parse_color

hex_digits = st.text(alphabet="0123456789abcdefABCDEF", min_size=6, max_size=8)


@given(digits=hex_digits, padding=st.sampled_from(("", " ", "\t")))
def test_a_hex_colour_reads_as_pillow_reads_it(digits: str, padding: str) -> None:
    text = f"{padding}#{digits}{padding}"
    try:
        expected = ImageColor.getcolor(text.strip(), "RGBA")
    except ValueError:
        with pytest.raises(ValueError, match="is not a colour"):
            parse_color(text)
        return
    assert parse_color(text) == expected


@pytest.mark.parametrize("text", ["gold", "#abc", "#abcd", "rgb(1, 2, 3)", "#FFD40", "#ffd400ff00", "nope"])
def test_other_forms_are_still_pillows(text: str) -> None:
    try:
        expected = ImageColor.getcolor(text, "RGBA")
    except ValueError:
        with pytest.raises(ValueError):
            parse_color(text)
        return
    assert parse_color(text) == expected
