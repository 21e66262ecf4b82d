"""An MP4 made elsewhere (the cloud's export) re-encoded here into another format, its sound brought to
the platforms' loudness on the way (decoded whole, measured, then encoded beside the video)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from joypix_recipes.errors import JoypixError, RenderError
from joypix_recipes.render.audio import SAMPLE_RATE, decode_audio
from joypix_recipes.render.encode import open_writer
from joypix_recipes.render.formats import Encoding
from joypix_recipes.render.loudness import normalize_loudness

_LONGEST_SECONDS = 12 * 3600


def transcode(source: Path, target: Path, encoding: Encoding) -> None:
    """Write ``source`` (a video file) to ``target`` in ``encoding``'s format; ``target`` is written in place."""
    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                raise RenderError(f"{source.name}: the file has no video track")
            stream = container.streams.video[0]
            fps = Fraction(stream.average_rate or 30)
            size = (stream.codec_context.width, stream.codec_context.height)
            soundtrack = None
            if container.streams.audio and encoding.spec.audio_codec is not None:
                soundtrack = decode_audio(source, _LONGEST_SECONDS * SAMPLE_RATE)
                if encoding.normalize_audio:
                    soundtrack = normalize_loudness(soundtrack, SAMPLE_RATE)
            with open_writer(target, size, fps, encoding, _kept_tags(container.metadata), soundtrack) as writer:
                for frame in container.decode(stream):
                    writer.write(frame.reformat(format="nv12").to_ndarray())
    except JoypixError:
        raise
    except Exception as error:  # noqa: BLE001 - PyAV raises many types on a damaged file
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise RenderError(f"{source.name}: could not be made into {encoding.format} ({reason})") from error


def _kept_tags(metadata: dict[str, str]) -> dict[str, str]:
    """The job's own tags (its identity and name); the source container's brands are not carried over."""
    return {key: value for key, value in metadata.items() if key in ("comment", "title")}
