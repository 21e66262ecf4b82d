"""Drafts rendered to MP4 and decoded again with PyAV: container facts, motion, text, fades, crossfades."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from helpers.video import decoded_frames, same_pictures
from PIL import Image, ImageDraw, ImageFilter

from joypix_recipes.atomic import PARTIAL_SUFFIX
from joypix_recipes.errors import ImageError, RenderError
from joypix_recipes.render.probe import probe_video, top_level_atoms
from joypix_recipes.render.video import render_draft
from joypix_recipes.timeline.draft import Draft, TextClip, VideoClip

from .conftest import SMALL, frame_hashes, one_clip, solid, with_marker

ImageFile = Callable[..., Path]


@pytest.fixture
def photo(image_file: ImageFile) -> Path:
    """A 640x480 JPEG with texture, so motion is visible."""
    rng = np.random.default_rng(7)
    small = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    return image_file(Image.fromarray(small).resize((640, 480), Image.Resampling.BICUBIC), "photo.jpg", quality=92)


def test_output_is_h264_yuv420p_with_exact_frames_and_moov_first(photo: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=1000, motion="zoom-in")
    result = render_draft(draft, {"img": photo}, tmp_path / "out.mp4")
    info = probe_video(result.output)
    assert (info.width, info.height) == SMALL == (result.width, result.height)
    assert info.frames == result.frames == 30
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.fps == 30 and abs(info.duration_s - 1.0) < 1e-6
    atoms = top_level_atoms(result.output)
    assert atoms.index("moov") < atoms.index("mdat") and info.faststart
    assert not info.has_audio


def test_stream_is_marked_tv_range_bt709(photo: Path, tmp_path: Path) -> None:
    output = render_draft(one_clip(duration_ms=100), {"img": photo}, tmp_path / "out.mp4").output
    with av.open(str(output)) as container:
        frame = next(container.decode(video=0))
    assert frame.color_range == 1 and frame.colorspace == 1  # MPEG (tv) range, BT.709


def test_frame_count_is_duration_times_fps_rounded(photo: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=1010).with_changes(fps=24)
    assert render_draft(draft, {"img": photo}, tmp_path / "out.mp4").frames == round(1.01 * 24)
    assert len(decoded_frames(tmp_path / "out.mp4")) == 24


def test_poster_jpeg_is_written_beside_and_no_partials_remain(photo: Path, tmp_path: Path) -> None:
    result = render_draft(one_clip(duration_ms=300), {"img": photo}, tmp_path / "clip.mp4")
    assert result.poster == tmp_path / "clip.jpg"
    with Image.open(result.poster) as poster:
        assert poster.format == "JPEG" and poster.size == SMALL
    assert not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}*"))


def test_poster_can_be_skipped(photo: Path, tmp_path: Path) -> None:
    result = render_draft(one_clip(duration_ms=100), {"img": photo}, tmp_path / "clip.mp4", poster=False)
    assert result.poster is None and not (tmp_path / "clip.jpg").exists()


def test_same_draft_and_seed_give_the_same_frames(photo: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=500, motion="ken-burns").with_changes(seed=11)
    first = render_draft(draft, {"img": photo}, tmp_path / "a.mp4").output
    second = render_draft(draft, {"img": photo}, tmp_path / "b.mp4").output
    assert same_pictures(first, second)


def test_ken_burns_drift_depends_on_the_seed(photo: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=300, motion="ken-burns", zoom=1.5)
    first = render_draft(draft.with_changes(seed=1), {"img": photo}, tmp_path / "a.mp4").output
    second = render_draft(draft.with_changes(seed=2), {"img": photo}, tmp_path / "b.mp4").output
    assert frame_hashes(first)[-1] != frame_hashes(second)[-1]


def test_exif_oriented_marker_lands_top_right(image_file: ImageFile, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape; displayed rotated clockwise, so stored top-left shows top-right
    path = image_file(with_marker((640, 360), "top-left"), "turned.jpg", exif=exif, quality=95)
    frame = decoded_frames(render_draft(one_clip(), {"img": path}, tmp_path / "o.mp4").output)[0]
    height, width = frame.shape[:2]
    top_right = frame[: height // 10, width - width // 10 :].reshape(-1, 3).mean(axis=0)
    top_left = frame[: height // 10, : width // 10].reshape(-1, 3).mean(axis=0)
    assert top_right[0] > 200 and top_right[1] < 60
    assert abs(top_left[0] - 128) < 20


def test_title_changes_pixels_only_in_its_band(image_file: ImageFile, tmp_path: Path) -> None:
    path = image_file(solid((40, 90, 140)), "plain.png")
    plain = one_clip(duration_ms=500)
    titled = plain.with_changes(text=(TextClip("Hello there", position="top", size=72, fade_ms=0),))
    without = decoded_frames(render_draft(plain, {"img": path}, tmp_path / "a.mp4").output, "gray")[10].astype(int)
    with_title = decoded_frames(render_draft(titled, {"img": path}, tmp_path / "b.mp4").output, "gray")[10].astype(int)
    rows = np.abs(with_title - without).mean(axis=1)
    height = SMALL[1]
    changed = np.nonzero(rows > 2)[0]
    assert changed.size > 0
    assert changed.min() >= int(height * 0.14) - 2  # clear of the 9:16 top safe margin
    assert changed.max() < height // 2
    assert rows[int(height * 0.8) :].max() < 1


def test_bottom_caption_stays_above_the_bottom_safe_area(image_file: ImageFile, tmp_path: Path) -> None:
    path = image_file(solid((40, 90, 140)), "plain.png")
    words = "a long caption that must wrap over several lines to fit"
    draft = one_clip(duration_ms=200).with_changes(text=(TextClip(words, position="bottom", size=60, fade_ms=0),))
    plain = decoded_frames(render_draft(one_clip(duration_ms=200), {"img": path}, tmp_path / "a.mp4").output, "gray")[3]
    titled = decoded_frames(render_draft(draft, {"img": path}, tmp_path / "b.mp4").output, "gray")[3]
    rows = np.nonzero(np.abs(titled.astype(int) - plain.astype(int)).mean(axis=1) > 2)[0]
    assert rows.max() <= int(SMALL[1] * 0.8) + 2
    assert rows.max() - rows.min() > 28  # more than one line


def test_text_fades_in(image_file: ImageFile, tmp_path: Path) -> None:
    path = image_file(solid((40, 90, 140)), "plain.png")
    draft = one_clip(duration_ms=1000).with_changes(text=(TextClip("Fade", position="center", size=90, fade_ms=300),))
    frames = decoded_frames(render_draft(draft, {"img": path}, tmp_path / "a.mp4").output, "gray")
    band = [frame[120:200].astype(int).max() for frame in frames]
    assert band[0] < band[4] < band[12]


def _square_width(gray: np.ndarray) -> float:
    """Width of the dark square across the middle row, to sub-pixel precision (white 235, black 16)."""
    row = gray[gray.shape[0] // 2].astype(float)
    darkness = np.clip((235.0 - row) / 219.0, 0.0, 1.0)
    return float(darkness.sum())


def test_zoom_grows_a_square_monotonically_in_even_steps(tmp_path: Path) -> None:
    image = Image.new("RGB", (720, 1280), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((300, 580, 419, 699), fill=(0, 0, 0))  # 120 px square at the centre
    path = tmp_path / "square.png"
    # Soft edges, so the measurement is not limited by how a hard edge aliases; whole-pixel rounding still shows.
    image.filter(ImageFilter.GaussianBlur(8)).save(path)
    draft = one_clip(duration_ms=1000, motion="zoom-in", zoom=1.5, easing="linear")
    frames = decoded_frames(render_draft(draft, {"img": path}, tmp_path / "z.mp4").output, "gray")
    widths = np.array([_square_width(frame) for frame in frames])
    assert abs(widths[0] - 30.0) < 1.0 and abs(widths[-1] - 45.0) < 1.0  # 120 px * 180/720, then x1.5
    steps = np.diff(widths)
    assert (steps > 0).all()
    assert np.abs(steps - steps.mean()).max() < 0.15  # sub-pixel even: no whole-pixel jumps


def test_pan_left_slides_content_right(tmp_path: Path) -> None:
    image = Image.new("RGB", (400, 640), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((190, 300, 209, 339), fill=(0, 0, 0))
    path = tmp_path / "bar.png"
    image.save(path)
    draft = one_clip(duration_ms=500, motion="pan-left", zoom=1.25, easing="linear")
    frames = decoded_frames(render_draft(draft, {"img": path}, tmp_path / "p.mp4").output, "gray")
    centres = []
    for frame in frames:
        darkness = np.clip((235.0 - frame[160].astype(float)) / 219.0, 0, 1)
        centres.append(float((darkness * np.arange(darkness.size)).sum() / darkness.sum()))
    assert all(b > a for a, b in itertools.pairwise(centres))


def test_fade_in_starts_black_and_fade_out_ends_black(photo: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=1000).with_changes(fade_in_ms=300, fade_out_ms=300)
    frames = decoded_frames(render_draft(draft, {"img": photo}, tmp_path / "f.mp4").output, "gray")
    means = [float(frame.mean()) for frame in frames]
    assert means[0] < 18 and means[-1] < 18
    assert means[0] < means[4] < means[9] and means[15] > 40
    assert means[-1] < means[-5] < means[-9]


def test_crossfade_blends_consecutive_clips(image_file: ImageFile, tmp_path: Path) -> None:
    red, blue = image_file(solid((255, 0, 0)), "red.png"), image_file(solid((0, 0, 255)), "blue.png")
    draft = Draft(
        width=SMALL[0],
        height=SMALL[1],
        fps=30,
        video=(VideoClip("red", 600, motion="none"), VideoClip("blue", 600, motion="none", transition_ms=200)),
    )
    frames = decoded_frames(render_draft(draft, {"red": red, "blue": blue}, tmp_path / "x.mp4").output)
    assert len(frames) == 30  # 600 + 600 - 200 ms
    centre = [frame[160, 90].astype(int) for frame in frames]
    assert centre[0][0] > 200 and centre[0][2] < 40
    assert centre[-1][2] > 200 and centre[-1][0] < 40
    middle = centre[15]  # 500 ms: half way through the 400-600 ms overlap
    assert 80 < middle[0] < 180 and 80 < middle[2] < 180


def test_fit_blur_shows_the_whole_image_over_a_blurred_copy(tmp_path: Path) -> None:
    image = Image.new("RGB", (640, 360), (128, 128, 128))
    ImageDraw.Draw(image).rectangle((0, 0, 31, 359), fill=(255, 0, 0))
    ImageDraw.Draw(image).rectangle((608, 0, 639, 359), fill=(0, 0, 255))
    path = tmp_path / "wide.png"
    image.save(path)
    frame = decoded_frames(render_draft(one_clip(fit="blur"), {"img": path}, tmp_path / "b.mp4").output)[0]
    middle = frame[160].astype(int)
    assert middle[2][0] > 180 and middle[2][2] < 80  # the red left edge is inside the frame
    assert middle[-3][2] > 180 and middle[-3][0] < 80  # and so is the blue right edge
    top = frame[10, 90].astype(int)
    assert top.max() < 140  # above the picture: the darkened blur, not the image itself
    cover = decoded_frames(render_draft(one_clip(), {"img": path}, tmp_path / "c.mp4").output)[0]
    assert cover[160, 2][0] < 180  # a cover crop cuts the edges off


@pytest.mark.parametrize("motion", ["zoom-out", "pan-right", "pan-up", "pan-down", "ken-burns", "none"])
def test_every_motion_renders(photo: Path, tmp_path: Path, motion: str) -> None:
    draft = one_clip(duration_ms=200, motion=motion, easing="ease-in-out")
    assert probe_video(render_draft(draft, {"img": photo}, tmp_path / "m.mp4").output).frames == 6


@pytest.mark.parametrize(
    ("name", "make", "options"),
    [
        ("cmyk.jpg", lambda: solid((200, 40, 40)).convert("CMYK"), {}),
        ("deep.png", lambda: Image.fromarray(np.full((640, 360), 40000, dtype=np.uint16)), {}),
        ("palette.png", lambda: solid((40, 200, 40)).convert("P"), {}),
        ("alpha.png", lambda: Image.new("RGBA", (360, 640), (200, 40, 40, 128)), {}),
        ("anim.gif", lambda: solid((40, 40, 200)), {"save_all": True, "append_images": [solid((0, 0, 0))]}),
        ("photo.webp", lambda: solid((200, 200, 40)), {}),
        ("named-wrong.jpg", lambda: solid((40, 200, 200)), {"format": "PNG"}),
    ],
)
def test_every_input_kind_renders(
    image_file: ImageFile, tmp_path: Path, name: str, make: Callable[[], Image.Image], options: dict[str, object]
) -> None:
    path = image_file(make(), name, **options)
    frame = decoded_frames(render_draft(one_clip(duration_ms=100), {"img": path}, tmp_path / "k.mp4").output)[0]
    with Image.open(path) as original:  # an animated GIF keeps its file open until closed
        expected = np.asarray(original.convert("RGB"))[0, 0].astype(int) if name != "deep.png" else (156, 156, 156)
    if name == "alpha.png":
        expected = np.array([228, 148, 148])  # half red over white
    assert np.abs(frame[160, 90].astype(int) - expected).max() < 12


def test_heic_renders(tmp_path: Path) -> None:
    import pillow_heif

    path = tmp_path / "phone.heic"
    pillow_heif.from_pillow(solid((0, 200, 0))).save(path, quality=90)
    frame = decoded_frames(render_draft(one_clip(duration_ms=100), {"img": path}, tmp_path / "h.mp4").output)[0]
    assert frame[160, 90][1] > 150 and frame[160, 90][0] < 60


def test_absolute_src_path_is_used_when_not_in_media(photo: Path, tmp_path: Path) -> None:
    result = render_draft(one_clip(src=str(photo), duration_ms=100), {}, tmp_path / "o.mp4")
    assert result.frames == 3


def test_bad_image_fails_with_image_error_naming_it_and_leaves_no_output(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ImageError, match="broken.jpg"):
        render_draft(one_clip(), {"img": bad}, tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()
    assert not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}*"))


def test_missing_media_is_an_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="nowhere.jpg"):
        render_draft(one_clip(src="nowhere.jpg"), {}, tmp_path / "o.mp4")


def test_draft_without_video_is_a_render_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="no video clip"):
        render_draft(Draft(width=180, height=320), {}, tmp_path / "o.mp4")


def test_unknown_quality_is_a_render_error(photo: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="quality"):
        render_draft(one_clip(duration_ms=100), {"img": photo}, tmp_path / "o.mp4", quality="ultra")


def test_lower_quality_makes_a_smaller_file(photo: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=500, motion="zoom-in")
    high = render_draft(draft, {"img": photo}, tmp_path / "h.mp4", quality="high").output.stat().st_size
    low = render_draft(draft, {"img": photo}, tmp_path / "l.mp4", quality="low").output.stat().st_size
    assert low < high


def test_full_hd_vertical_end_to_end(image_file: ImageFile, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    texture = Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).resize(
        (4000, 3000), Image.Resampling.BICUBIC
    )
    path = image_file(texture, "camera.jpg", quality=85)
    draft = Draft(
        video=(VideoClip("img", 1000, motion="zoom-in"),),
        text=(TextClip("Full HD", position="top"),),
        fade_in_ms=200,
    )
    result = render_draft(draft, {"img": path}, tmp_path / "hd.mp4", metadata={"comment": "job 42"})
    info = probe_video(result.output)
    assert (info.width, info.height, info.frames) == (1080, 1920, 30)
    assert (info.codec, info.pix_fmt, info.faststart) == ("h264", "yuv420p", True)
    with av.open(str(result.output)) as container:
        assert container.metadata.get("comment") == "job 42"
