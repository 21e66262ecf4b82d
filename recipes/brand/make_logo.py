"""Draws logo.png, the example brand's logo: a small yellow badge with a soft transparent edge (run with Pillow)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = (160, 80)


def make_logo(path: Path) -> None:
    """A rounded badge with a dark ring and a play mark, on a fully transparent background."""
    badge = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    draw.rounded_rectangle((6, 6, SIZE[0] - 7, SIZE[1] - 7), radius=24, fill=(255, 212, 0, 255), outline=(26, 26, 26, 255), width=5)
    draw.polygon([(66, 22), (66, 58), (98, 40)], fill=(26, 26, 26, 255))
    shadow = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle((8, 10, SIZE[0] - 5, SIZE[1] - 3), radius=24, fill=(0, 0, 0, 110))
    logo = Image.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(3)), badge)
    logo.save(path, optimize=True)


if __name__ == "__main__":
    make_logo(Path(__file__).with_name("logo.png"))
