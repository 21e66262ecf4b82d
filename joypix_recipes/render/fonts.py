"""Fonts for captions: the bundled open-licence families (SIL OFL 1.1 Source Sans / Source Serif, installed
from PyPI with the package) and Pillow's built-in face, or a .ttf/.otf file a recipe names."""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from joypix_recipes.errors import RenderError

# family -> (module that ships the files, file name in its files/ folder)
_BUNDLED = {
    "sans": ("font_source_sans_pro", "SourceSansPro-Regular.ttf"),
    "sans-bold": ("font_source_sans_pro", "SourceSansPro-Bold.ttf"),
    "serif": ("font_source_serif_pro", "SourceSerifPro-Regular.ttf"),
    "serif-bold": ("font_source_serif_pro", "SourceSerifPro-Bold.ttf"),
}


def font_file(name: str) -> Path | None:
    """The file behind a font name: a bundled family's, the path itself, or None for Pillow's built-in face."""
    if name == "default":
        return None
    if name in _BUNDLED:
        module_name, file_name = _BUNDLED[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise RenderError(f"the bundled font '{name}' is not installed; reinstall joypix-recipes") from error
        return Path(str(module.__file__)).parent / "files" / file_name
    return Path(name)


@lru_cache(maxsize=64)
def load_font(name: str, pixels: int) -> ImageFont.FreeTypeFont:
    """A font at a pixel size; raises RenderError naming the file when it cannot be read."""
    path = font_file(name)
    try:
        font = ImageFont.load_default(size=pixels) if path is None else ImageFont.truetype(str(path), pixels)
    except OSError as error:
        raise RenderError(f"cannot read the font {path} (a .ttf or .otf file is needed)") from error
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow without FreeType has only a tiny bitmap font
        raise RenderError("text needs Pillow with FreeType support; reinstall Pillow from PyPI")
    return font
