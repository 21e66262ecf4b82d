"""Every export format through the CLI, checked by decoding what it wrote: codec, pixel format, exact
duration and frame count, sound where the format has it, looping where it loops; posters stay JPEG."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import pytest
from helpers.audio import write_wav
from helpers.images import write_image
from PIL import Image

from joypix_recipes.cli.main import main
from joypix_recipes.job.export import FORMAT_SUFFIXES
from joypix_recipes.job.model import job_identity
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.plan import plan_jobs

FORMATS = ("mp4", "mp4-hevc", "webm", "gif", "webp")
SECONDS = 1


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run, one variant per format: a one-second 480p clip at 30 fps with a soundtrack."""
    folder = tmp_path_factory.mktemp("formats")
    write_image(folder / "a.jpg", (240, 320))
    write_wav(folder / "tone.wav", 2.0)
    variants = "".join(f"  - name: {name}\n    export: {{format: {name}}}\n" for name in FORMATS)
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        "version: 1\ninputs: [a.jpg]\n"
        f"steps:\n  - animate: {{motion: zoom-in, duration: {SECONDS}}}\n  - audio: {{file: tone.wav}}\n"
        f"export: {{resolution: 480p, fps: 30, quality: low}}\nvariants:\n{variants}",
        encoding="utf-8",
    )
    assert main(["run", str(recipe), "--out", str(folder / "out"), "-q"]) == 0
    return folder / "out"


def _video(path: Path) -> tuple[str, str, int, Fraction, str | None]:
    """Codec, pixel format, frames decoded, duration of the video stream (last time stamp + frame length), tag."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stamps = [(packet.pts, packet.duration) for packet in container.demux(stream) if packet.pts is not None]
        container.seek(0)
        frames = sum(1 for _ in container.decode(stream))
        pts, length = max(stamps)
        assert stream.time_base is not None
        context = stream.codec_context
        return context.name, context.pix_fmt or "", frames, (pts + length) * stream.time_base, context.codec_tag


def _audio(path: Path) -> tuple[str, int] | None:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        return stream.codec_context.name, stream.codec_context.sample_rate


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "audio"),
    [
        ("mp4", "h264", "yuv420p", "aac"),
        ("mp4-hevc", "hevc", "yuv420p", "aac"),
        ("webm", "vp9", "yuv420p", "opus"),
    ],
)
def test_video_formats_decode_with_their_codecs_duration_and_frames(
    outputs: Path, name: str, codec: str, pix_fmt: str, audio: str
) -> None:
    path = outputs / f"a-{name}{'.webm' if name == 'webm' else '.mp4'}"
    found_codec, found_pix_fmt, frames, duration, tag = _video(path)
    assert (found_codec, found_pix_fmt, frames, duration) == (codec, pix_fmt, 30 * SECONDS, Fraction(SECONDS))
    assert _audio(path) == (audio, 48_000)
    if name == "mp4-hevc":
        assert tag == "hvc1"  # Apple players refuse HEVC tagged hev1


def test_mp4_is_fast_start_and_webm_is_matroska(outputs: Path) -> None:
    mp4 = (outputs / "a-mp4.mp4").read_bytes()
    assert mp4.index(b"moov") < mp4.index(b"mdat")
    assert (outputs / "a-webm.webm").read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # EBML


def test_gif_is_capped_at_20_fps_and_480_wide_with_one_dithered_palette_and_loops(outputs: Path) -> None:
    path = outputs / "a-gif.gif"
    codec, pix_fmt, frames, duration, _ = _video(path)
    # 30 fps thinned to 20 (GIF delays are hundredths of a second): exactly 20 frames of 5/100 s.
    assert (codec, frames, duration) == ("gif", 20 * SECONDS, Fraction(SECONDS))
    assert pix_fmt in ("bgra", "pal8")
    with Image.open(path) as image:
        assert image.size == (480, 854) and image.info["loop"] == 0
        assert image.info["duration"] == 50
        colours = len(image.convert("RGB").getcolors(maxcolors=1 << 16) or [])
    assert 16 < colours <= 256  # a real palette, not a handful of flat colours
    global_table, local_tables, images = _gif_tables(path.read_bytes())
    assert global_table == 256 and local_tables == 0 and images == 20 * SECONDS  # one palette for the clip


def _gif_tables(data: bytes) -> tuple[int, int, int]:
    """Entries in the global colour table, how many images carry a local one, and how many images there are."""
    packed = data[10]
    global_table = 2 ** ((packed & 7) + 1) if packed & 0x80 else 0
    offset = 13 + 3 * global_table
    local = images = 0
    while data[offset] != 0x3B:
        if data[offset] == 0x21:  # extension: label, then sub-blocks
            offset += 2
        else:  # image descriptor, then the LZW code size, then sub-blocks
            images += 1
            flags = data[offset + 9]
            offset += 10
            if flags & 0x80:
                local += 1
                offset += 3 * 2 ** ((flags & 7) + 1)
            offset += 1
        while data[offset]:
            offset += data[offset] + 1
        offset += 1
    return global_table, local, images


def test_webp_is_animated_lossy_loops_and_lasts_exactly(outputs: Path) -> None:
    path = outputs / "a-webp.webp"
    data = path.read_bytes()
    chunks = _riff_chunks(data)
    assert chunks[0] == "VP8X" and "ANIM" in chunks
    anmf = data.index(b"ANMF")
    assert data[anmf + 24 : anmf + 28] == b"VP8 "  # lossy VP8: 4:2:0, like the other formats
    with Image.open(path) as image:
        assert image.format == "WEBP" and image.info["loop"] == 0 and image.size == (480, 854)
        stamps, total = [], 0
        for index in range(image.n_frames):
            image.seek(index)
            image.load()
            stamps.append(image.info["timestamp"])
            total += image.info["duration"]
    assert total == 1000 * SECONDS
    # libwebp merges a frame identical to the one before into it (it shows longer), so frames may be
    # fewer than 30; each still starts on a 30 fps frame time, in milliseconds.
    ticks = [round(stamp * 30 / 1000) for stamp in stamps]
    assert stamps == [round(tick * 1000 / 30) for tick in ticks] and ticks == sorted(set(ticks))
    assert 20 <= len(stamps) <= 30 * SECONDS and chunks.count("ANMF") == len(stamps)


def _riff_chunks(data: bytes) -> list[str]:
    names, offset = [], 12
    while offset + 8 <= len(data):
        name, size = data[offset : offset + 4].decode("latin-1"), struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        names.append(name)
        offset += 8 + size + (size & 1)
    return names


def test_posters_stay_jpeg_and_no_partial_file_is_left(outputs: Path) -> None:
    for name in FORMATS:
        with Image.open(outputs / f"a-{name}.jpg") as poster:
            assert poster.format == "JPEG"
    assert not [path for path in outputs.rglob("*") if path.name.endswith(".partial")]


def test_the_output_name_takes_the_format_extension_and_a_wrong_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "version: 1\ninputs: [a.jpg]\nsteps: [{fade: {in: 0.2}}]\n"
        "export: {format: gif, output: '{{ input.stem }}.mp4'}\n",
        encoding="utf-8",
    )
    assert main(["run", str(recipe), "--dry-run"]) == 2
    assert "must end in .gif" in capsys.readouterr().err
    recipe.write_text("version: 1\ninputs: [a.jpg]\nsteps: [{fade: {in: 0.2}}]\nexport: {format: webm}\n", encoding="utf-8")
    (job,) = plan_jobs(load_recipe(recipe), out_dir=tmp_path / "out").jobs
    assert job.output.name == "a.webm"


def test_the_job_identity_covers_the_format(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    recipe = tmp_path / "recipe.yaml"
    identities = set()
    for name in FORMATS:
        recipe.write_text(
            f"version: 1\ninputs: [a.jpg]\nsteps: [{{fade: {{in: 0.2}}}}]\nexport: {{format: {name}}}\n", encoding="utf-8"
        )
        (job,) = plan_jobs(load_recipe(recipe), out_dir=tmp_path / "out").jobs
        identities.add(job_identity(job, "same-input"))
    assert len(identities) == len(FORMATS)


def test_an_unknown_format_is_a_recipe_error_naming_the_choices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("version: 1\ninputs: [a.jpg]\nsteps: [{fade: {in: 0.2}}]\nexport: {format: avi}\n", encoding="utf-8")
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "recipe.yaml:4" in err and "mp4-hevc" in err and "webp" in err
    assert "Traceback" not in err


def test_dry_run_names_the_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("version: 1\ninputs: [a.jpg]\nsteps: [{fade: {in: 0.2}}]\nexport: {format: mp4-hevc}\n", encoding="utf-8")
    assert main(["run", str(recipe), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "mp4-hevc" in out and "a.mp4" in out


def test_music_on_a_silent_format_is_warned_about_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    write_image(tmp_path / "b.jpg", (64, 48))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "version: 1\ninputs: [a.jpg, b.jpg]\nsteps: [{audio: {file: 'builtin:ambient'}}]\nexport: {format: webp}\n",
        encoding="utf-8",
    )
    assert main(["run", str(recipe), "--dry-run"]) == 0
    assert capsys.readouterr().err.count("webp clips have no sound") == 1


def test_every_clip_and_its_poster_carry_the_same_job_identity(outputs: Path) -> None:
    from joypix_recipes.run.provenance import embedded_identity

    for name in FORMATS:
        clip = outputs / f"a-{name}{FORMAT_SUFFIXES[name]}"
        identity = embedded_identity(clip)
        assert identity is not None and identity == embedded_identity(clip.with_suffix(".jpg")), name
    # A WebP keeps it in an EXIF chunk after its frames, flagged in its VP8X header.
    webp = (outputs / "a-webp.webp").read_bytes()
    assert _riff_chunks(webp)[-1] == "EXIF" and webp[20] & 0x08
    exif = webp.rindex(b"EXIF")
    assert webp[exif + 8 : exif + 12] in (b"II*\x00", b"MM\x00*")  # a TIFF header, as the WebP format has it


def test_the_manifest_gives_every_formats_clip_its_length_and_size(outputs: Path) -> None:
    import json

    jobs = json.loads((outputs / "manifest.json").read_text())["jobs"]
    clips = {Path(job["output"]).name: job["clip"] for job in jobs}
    for name in FORMATS:
        clip = clips[f"a-{name}{FORMAT_SUFFIXES[name]}"]
        # GIF frames last whole hundredths of a second, the others whole frames: within a frame of it.
        assert clip["length_s"] == pytest.approx(SECONDS, abs=0.05), name
        assert (clip["width"], clip["height"]) == (480, 854), name
