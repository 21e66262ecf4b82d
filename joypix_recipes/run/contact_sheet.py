"""A contact sheet: one JPEG of every clip's poster in an output folder, each with its name, for a quick
look or an email. It reads the folder's manifest, so it shows what report.html shows."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joypix_recipes.atomic import atomic_write_bytes
from joypix_recipes.errors import JoypixError
from joypix_recipes.run.report import MANIFEST_NAME, read_manifest_entries

CONTACT_SHEET_NAME = "contact-sheet.jpg"
TILE = (240, 240)
"""The box a poster is fitted into (its aspect kept); the name goes under it."""
CAPTION_HEIGHT = 28
GAP = 8
MAX_COLUMNS = 6
BACKGROUND = (24, 24, 24)
TEXT = (235, 235, 235)


class ContactSheetError(JoypixError):
    """The folder has no posters to lay out."""


@dataclass(frozen=True)
class Tile:
    """One clip on the sheet: its poster and the name written under it."""

    poster: Path
    name: str


def sheet_tiles(entries: Sequence[Mapping[str, Any]]) -> list[Tile]:
    """The tiles of the manifest's finished clips whose poster is still there, in manifest order."""
    tiles = []
    for entry in entries:
        poster = entry.get("poster")
        if entry.get("status") in ("done", "skipped") and isinstance(poster, str) and Path(poster).is_file():
            tiles.append(Tile(Path(poster), str(entry.get("name") or entry.get("label") or Path(poster).stem)))
    return tiles


def write_contact_sheet(out_dir: Path) -> Path:
    """Lay out every finished clip of ``out_dir`` (per its manifest) into ``contact-sheet.jpg``; its path."""
    tiles = sheet_tiles(read_manifest_entries(Path(out_dir) / MANIFEST_NAME))
    if not tiles:
        raise ContactSheetError(f"{out_dir} has no clip posters to put on a contact sheet")
    target = Path(out_dir) / CONTACT_SHEET_NAME
    buffer = io.BytesIO()
    render_sheet(tiles).save(buffer, format="JPEG", quality=85)
    atomic_write_bytes(target, buffer.getvalue())
    return target


def render_sheet(tiles: Sequence[Tile]) -> Any:
    """The sheet as a Pillow image: tiles left to right, top to bottom, at most six a row."""
    from PIL import Image, ImageDraw, ImageFont

    columns = min(MAX_COLUMNS, max(1, math.ceil(math.sqrt(len(tiles)))))
    rows = math.ceil(len(tiles) / columns)
    cell_width, cell_height = TILE[0], TILE[1] + CAPTION_HEIGHT
    sheet = Image.new(
        "RGB", (GAP + columns * (cell_width + GAP), GAP + rows * (cell_height + GAP)), BACKGROUND
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    for number, tile in enumerate(tiles):
        left = GAP + (number % columns) * (cell_width + GAP)
        top = GAP + (number // columns) * (cell_height + GAP)
        try:
            with Image.open(tile.poster) as poster:
                poster.thumbnail(TILE)
                picture = poster.convert("RGB")
        except (OSError, ValueError):  # a poster unreadable since it was listed: its box stays empty
            picture = None
        if picture is not None:
            sheet.paste(picture, (left + (TILE[0] - picture.width) // 2, top + (TILE[1] - picture.height) // 2))
        draw.text((left + 2, top + TILE[1] + 6), _fit(draw, tile.name, font, cell_width - 4), fill=TEXT, font=font)
    return sheet


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    """``text``, cut with an ellipsis to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
