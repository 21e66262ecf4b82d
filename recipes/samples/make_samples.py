"""Makes the sample media the example recipes use: a product-style photo, its colourways and a short music loop.

Run once from the repository root (the outputs are committed):  python recipes/samples/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 1600, 1200


def make_photo(target: Path) -> None:
    """A studio shot: a teal bottle with a gold cap and a white label on a warm table, soft shadow, clear contrast."""
    rows = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    top, bottom = np.array([236, 226, 212]), np.array([198, 176, 150])
    backdrop = (top + (bottom - top) * rows**1.6) * np.ones((1, WIDTH, 1))
    horizon = int(HEIGHT * 0.68)
    table = np.linspace(0.0, 1.0, HEIGHT - horizon)[:, None, None]
    backdrop[horizon:] = (
        np.array([176, 142, 112]) + (np.array([132, 100, 74]) - np.array([176, 142, 112])) * table
    ) * np.ones((1, WIDTH, 1))
    vignette = 1.0 - 0.22 * (((np.arange(WIDTH) - WIDTH / 2) / (WIDTH / 2)) ** 2)[None, :, None]
    image = Image.fromarray(np.clip(backdrop * vignette, 0, 255).astype(np.uint8))

    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).ellipse((560, horizon + 90, 1120, horizon + 190), fill=150)
    ImageDraw.Draw(shadow).ellipse((1090, horizon + 120, 1330, horizon + 180), fill=110)
    image.paste((70, 50, 35), mask=shadow.filter(ImageFilter.GaussianBlur(28)))

    columns = np.linspace(-1.0, 1.0, 360)
    shade = 0.45 + 0.55 * np.cos(columns * 1.25) ** 2 + 0.35 * np.exp(-((columns + 0.45) ** 2) / 0.01)
    teal = np.clip(np.array([22, 104, 112])[None, :] * shade[:, None], 0, 255)
    body = Image.fromarray(np.repeat(teal[None, :, :], 560, axis=0).astype(np.uint8))
    mask = Image.new("L", body.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, 359, 559), radius=70, fill=255)
    image.paste(body, (660, horizon - 420), mask)

    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((770, horizon - 520, 910, horizon - 410), radius=18, fill=(196, 154, 64))
    draw.rectangle((800, horizon - 520, 820, horizon - 412), fill=(236, 206, 130))
    draw.rounded_rectangle((700, horizon - 260, 980, horizon - 110), radius=12, fill=(246, 243, 236))
    font = _font(64)
    draw.text((840, horizon - 205), "JOYPIX", fill=(30, 40, 44), font=font, anchor="mm")
    draw.text((840, horizon - 148), "eau de parfum", fill=(90, 98, 100), font=_font(26), anchor="mm")

    yy, xx = np.mgrid[-1:1:240j, -1:1:240j]
    light = np.clip(0.55 + 0.6 * np.exp(-((xx + 0.35) ** 2 + (yy + 0.35) ** 2) / 0.25) - 0.25 * (xx**2 + yy**2), 0, 1.3)
    sphere = Image.fromarray(
        np.clip(np.array([224, 98, 72])[None, None, :] * light[:, :, None], 0, 255).astype(np.uint8)
    )
    round_mask = Image.new("L", sphere.size, 0)
    ImageDraw.Draw(round_mask).ellipse((0, 0, 239, 239), fill=255)
    image.paste(sphere, (1090, horizon - 90), round_mask)
    image.save(target, "JPEG", quality=82, optimize=True, progressive=True)


COLOURWAYS = {"02-plum": 50, "03-amber": 105, "04-moss": 127}
"""The lookbook's other shots: the studio photo with its hues turned by these OpenCV hue steps (0-180)."""


def make_colourways(photo: Path, folder: Path) -> None:
    """The same shot in other colours, so a lookbook has several images to join."""
    import cv2

    folder.mkdir(exist_ok=True)
    rgb = np.asarray(Image.open(photo).convert("RGB"))
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    for name, turn in COLOURWAYS.items():
        turned = hsv.copy()
        turned[..., 0] = (turned[..., 0].astype(np.int16) + turn) % 180
        image = Image.fromarray(cv2.cvtColor(turned, cv2.COLOR_HSV2RGB))
        image.save(folder / f"{name}.jpg", "JPEG", quality=82, optimize=True, progressive=True)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def make_music(target: Path, seconds: float = 8.0, rate: int = 44100) -> None:
    """A calm four-chord pad with a soft arpeggio, AAC in an .m4a container."""
    time = np.arange(int(seconds * rate)) / rate
    chords = [(220.0, 277.18, 329.63), (196.0, 246.94, 293.66), (174.61, 220.0, 261.63), (196.0, 246.94, 329.63)]
    signal = np.zeros_like(time)
    for index, chord in enumerate(chords):
        start, end = index * seconds / 4, (index + 1) * seconds / 4
        window = (time >= start) & (time < end)
        local = time[window] - start
        envelope = np.minimum(1.0, local / 0.25) * np.minimum(1.0, (end - start - local) / 0.4)
        for note in chord:
            signal[window] += 0.12 * envelope * np.sin(2 * np.pi * note * time[window])
        for step, note in enumerate((chord * 2)[:8]):
            onset = start + step * (end - start) / 8
            tone = (time >= onset) & (time < onset + 0.5)
            signal[tone] += 0.08 * np.exp(-(time[tone] - onset) * 6) * np.sin(2 * np.pi * note * 2 * time[tone])
    signal *= np.minimum(1.0, time / 0.5) * np.minimum(1.0, (seconds - time) / 0.8)
    stereo = np.stack([signal, np.roll(signal, 300)]).astype(np.float32)
    with av.open(str(target), "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        stream.bit_rate = 96_000
        frame_size = 1024
        for offset in range(0, stereo.shape[1], frame_size):
            chunk = np.ascontiguousarray(stereo[:, offset : offset + frame_size])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = rate
            frame.pts = offset
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


if __name__ == "__main__":
    make_photo(HERE / "sample.jpg")
    make_colourways(HERE / "sample.jpg", HERE / "look")
    make_music(HERE / "music.m4a")
