"""The timeline ("draft") in the cloud service's short-key JSON, and its one-line summary.

Wire shape (shared by the local renderer, the cloud client and the emulator):

    {"d": total_ms,
     "m": {"w": 1080, "h": 1920, "fps": 30, "seed": 0, "fi": fade_in_ms, "fo": fade_out_ms},
     "t": [{"tt": 0, "sg": [{"st": 0, "d": 5000, "m": {"src": ..., "mo": "zoom-in", ...}}]},
           {"tt": 1, "sg": [...]}, {"tt": 7, "sg": [...]}]}

``tt`` is the track type (0 video, 1 audio, 7 text, 8 image overlays such as a logo), ``sg`` the segments, ``st``/``d`` start and
duration in ms, ``m`` metadata. Video segments play one after another; each may overlap the one
before it by ``xf`` ms, which is how several images become one clip; ``tk`` names how the overlap
looks (a crossfade when absent: ``dip-to-black``, ``slide-left``, ``wipe-right``, ``zoom``...). ``fps`` is a whole
number, or for NTSC rates the decimal of n x 1000/1001, which reads back as that exact fraction
(a ratio no decimal can carry is written as text, "1000/999").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from joypix_recipes.errors import DraftError
from joypix_recipes.job.actions import CaptionStyle
from joypix_recipes.job.export import fps_value, parse_fps

TRACK_VIDEO = 0
TRACK_AUDIO = 1
TRACK_TEXT = 7
TRACK_OVERLAY = 8


@dataclass(frozen=True)
class VideoClip:
    """One still image animated by a camera move; ``transition_ms`` overlaps the previous clip, as ``transition`` draws."""

    src: str
    duration_ms: int = 5000
    motion: str = "zoom-in"
    zoom: float = 1.25
    easing: str = "ease-in-out"
    fit: str = "cover"
    focus: tuple[float, float] = (0.5, 0.5)
    transition_ms: int = 0
    label: str = ""
    transition: str = "crossfade"


@dataclass(frozen=True)
class AudioClip:
    """A background track played from ``start_ms`` to the end of the clip, trimmed or looped."""

    src: str
    start_ms: int = 0
    volume: float = 1.0
    fade_in_ms: int = 0
    fade_out_ms: int = 0
    label: str = ""


@dataclass(frozen=True)
class TextClip:
    """A title or caption; ``duration_ms`` None means until the clip ends."""

    text: str
    start_ms: int = 0
    duration_ms: int | None = None
    position: str = "bottom"
    size: float = 72.0
    fade_ms: int = 300
    style: CaptionStyle = field(default_factory=CaptionStyle)


@dataclass(frozen=True)
class ImageClip:
    """A still image over the video (a logo): placed by ``position`` (or ``x``/``y`` shares of the frame for
    its top-left corner), ``width`` a share of the frame width; ``duration_ms`` None means until the end."""

    src: str
    start_ms: int = 0
    duration_ms: int | None = None
    position: str = "top-right"
    x: float | None = None
    y: float | None = None
    width: float = 0.2
    margin: float = 0.02
    opacity: float = 1.0
    fade_in_ms: int = 0
    fade_out_ms: int = 0
    label: str = ""


@dataclass(frozen=True)
class Draft:
    """A whole timeline: frame geometry, video clips in sequence, audio and text overlays, fades."""

    width: int = 1080
    height: int = 1920
    fps: Fraction = Fraction(30)
    video: tuple[VideoClip, ...] = ()
    audio: tuple[AudioClip, ...] = ()
    text: tuple[TextClip, ...] = ()
    fade_in_ms: int = 0
    fade_out_ms: int = 0
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    overlays: tuple[ImageClip, ...] = ()

    def __post_init__(self) -> None:
        # Callers may give 30 or 29.97; the renderer counts frames and time stamps in exact fractions.
        if not isinstance(self.fps, Fraction):
            object.__setattr__(self, "fps", parse_fps(self.fps))

    @property
    def duration_ms(self) -> int:
        """Total length: clips in sequence minus their crossfade overlaps."""
        return sum(clip.duration_ms - clip.transition_ms for clip in self.video)

    @property
    def frame_count(self) -> int:
        """Frames the clip has at its fps (duration x fps, rounded; exact, so 2 s at 29.97 is 60)."""
        return round(self.duration_ms * self.fps / 1000)

    def video_starts_ms(self) -> tuple[int, ...]:
        """Start time of each video clip on the timeline."""
        starts, position = [], 0
        for clip in self.video:
            position -= clip.transition_ms
            starts.append(max(position, 0))
            position += clip.duration_ms
        return tuple(starts)

    def text_end_ms(self, clip: TextClip) -> int:
        """Where a text clip ends, resolving "until the end"."""
        return _end_ms(clip, self.duration_ms)

    def overlay_end_ms(self, clip: ImageClip) -> int:
        """Where an image overlay ends, resolving "until the end"."""
        total = self.duration_ms
        return total if clip.duration_ms is None else min(clip.start_ms + clip.duration_ms, total)

    def with_changes(self, **changes: Any) -> Draft:
        """A copy with some fields replaced (drafts are immutable)."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The service's short-key JSON."""
        total = self.duration_ms
        tracks: list[dict[str, Any]] = []
        if self.video:
            starts = self.video_starts_ms()
            tracks.append({"tt": TRACK_VIDEO, "sg": [_video_segment(c, s) for c, s in zip(self.video, starts)]})
        if self.audio:
            tracks.append({"tt": TRACK_AUDIO, "sg": [_audio_segment(c, total) for c in self.audio]})
        if self.text:
            # A subtitles file's cues share one style: state it once, not once per cue (100k cues, seconds).
            styles: dict[int, dict[str, Any]] = {}
            for clip in self.text:
                if id(clip.style) not in styles:
                    styles[id(clip.style)] = clip.style.stated()
            segments = [_text_segment(c, _end_ms(c, total), styles[id(c.style)]) for c in self.text]
            tracks.append({"tt": TRACK_TEXT, "sg": segments})
        if self.overlays:
            tracks.append({"tt": TRACK_OVERLAY, "sg": [_overlay_segment(c, self.overlay_end_ms(c)) for c in self.overlays]})
        meta: dict[str, Any] = {"w": self.width, "h": self.height, "fps": fps_value(self.fps), "seed": self.seed}
        if self.fade_in_ms:
            meta["fi"] = self.fade_in_ms
        if self.fade_out_ms:
            meta["fo"] = self.fade_out_ms
        meta.update(self.extra)
        return {"d": total, "m": meta, "t": tracks}

    @classmethod
    def from_json(cls, data: Any) -> Draft:
        """Parse the short-key JSON; raises DraftError naming what is wrong."""
        try:
            return _parse_draft(data)
        except DraftError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DraftError(f"the timeline is not a valid draft ({_describe(error)})") from error

    def summary(self) -> str:
        """One line in the service's summary style: ``Timeline (3 tracks): 1. Video: ... (0-10s) ...``."""
        parts: list[str] = []
        for clip, start in zip(self.video, self.video_starts_ms()):
            name = clip.label or clip.motion
            parts.append(f"Video: {name} ({_secs(start)}-{_secs(start + clip.duration_ms)}s)")
        total = self.duration_ms
        for audio in self.audio:
            name = audio.label or "music"
            parts.append(f"BGM: {name} ({_secs(audio.start_ms)}-{_secs(total)}s, {round(audio.volume * 100)}%)")
        for text in self.text:
            kind = "Title" if text.position == "top" or text.start_ms == 0 else "Caption"
            parts.append(f'{kind}: "{text.text}" ({_secs(text.start_ms)}-{_secs(self.text_end_ms(text))}s)')
        for image in self.overlays:
            name = image.label or "image"
            parts.append(f"Overlay: {name} ({_secs(image.start_ms)}-{_secs(self.overlay_end_ms(image))}s)")
        tracks = sum(1 for group in (self.video, self.audio, self.text, self.overlays) if group)
        numbered = " ".join(f"{index}. {part}" for index, part in enumerate(parts, start=1))
        noun = "track" if tracks == 1 else "tracks"
        return f"Timeline ({tracks} {noun}): {numbered}".rstrip() if parts else "Timeline (0 tracks): empty"


def _secs(ms: int) -> str:
    seconds = ms / 1000
    return f"{seconds:g}"


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]}"
    return str(error) or type(error).__name__


def _video_segment(clip: VideoClip, start: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "src": clip.src,
        "mo": clip.motion,
        "z": clip.zoom,
        "ea": clip.easing,
        "fit": clip.fit,
        "fc": list(clip.focus),
    }
    if clip.transition_ms:
        meta["xf"] = clip.transition_ms
        if clip.transition != "crossfade":
            meta["tk"] = clip.transition
    if clip.label:
        meta["n"] = clip.label
    return {"st": start, "d": clip.duration_ms, "m": meta}


def _audio_segment(clip: AudioClip, total: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"src": clip.src, "v": clip.volume, "fi": clip.fade_in_ms, "fo": clip.fade_out_ms}
    if clip.label:
        meta["n"] = clip.label
    return {"st": clip.start_ms, "d": max(total - clip.start_ms, 0), "m": meta}


def _end_ms(clip: TextClip, total: int) -> int:
    return total if clip.duration_ms is None else min(clip.start_ms + clip.duration_ms, total)


def _text_segment(clip: TextClip, end: int, style: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"txt": clip.text, "pos": clip.position, "sz": clip.size, "fd": clip.fade_ms}
    if style:
        meta["sty"] = style
    if clip.duration_ms is None:
        meta["toEnd"] = True
    return {"st": clip.start_ms, "d": max(end - clip.start_ms, 0), "m": meta}


def _overlay_segment(clip: ImageClip, end: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "src": clip.src,
        "pos": clip.position,
        "w": clip.width,
        "mg": clip.margin,
        "op": clip.opacity,
        "fi": clip.fade_in_ms,
        "fo": clip.fade_out_ms,
    }
    if clip.x is not None and clip.y is not None:
        meta["xy"] = [clip.x, clip.y]
    if clip.label:
        meta["n"] = clip.label
    if clip.duration_ms is None:
        meta["toEnd"] = True
    return {"st": clip.start_ms, "d": max(end - clip.start_ms, 0), "m": meta}


def _overlay_clip(segment: dict[str, Any], meta: dict[str, Any]) -> ImageClip:
    corner = meta.get("xy")
    return ImageClip(
        src=str(meta["src"]),
        start_ms=_ms(segment.get("st", 0)),
        duration_ms=None if meta.get("toEnd") else _ms(segment["d"]),
        position=str(meta.get("pos", "top-right")),
        x=None if corner is None else float(corner[0]),
        y=None if corner is None else float(corner[1]),
        width=float(meta.get("w", 0.2)),
        margin=float(meta.get("mg", 0.02)),
        opacity=float(meta.get("op", 1.0)),
        fade_in_ms=_ms(meta.get("fi", 0)),
        fade_out_ms=_ms(meta.get("fo", 0)),
        label=str(meta.get("n", "")),
    )


def _ms(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{value!s} is not a time in milliseconds")
    return int(value)


def _parse_draft(data: Any) -> Draft:
    if not isinstance(data, dict):
        raise DraftError("the timeline is not a JSON object")
    meta = data.get("m") or {}
    known_meta = {"w", "h", "fps", "seed", "fi", "fo"}
    draft = Draft(
        width=int(meta.get("w", 1080)),
        height=int(meta.get("h", 1920)),
        fps=parse_fps(meta.get("fps", 30)),
        fade_in_ms=_ms(meta.get("fi", 0)),
        fade_out_ms=_ms(meta.get("fo", 0)),
        seed=int(meta.get("seed", 0)),
        extra={k: v for k, v in meta.items() if k not in known_meta},
    )
    if draft.width <= 0 or draft.height <= 0:
        raise DraftError("the timeline has no valid frame size")
    video: list[VideoClip] = []
    audio: list[AudioClip] = []
    text: list[TextClip] = []
    overlays: list[ImageClip] = []
    for track in data.get("t", []):
        kind = track["tt"]
        for segment in track.get("sg", []):
            seg_meta = segment.get("m") or {}
            if kind == TRACK_VIDEO:
                focus = seg_meta.get("fc", [0.5, 0.5])
                video.append(
                    VideoClip(
                        src=str(seg_meta["src"]),
                        duration_ms=_ms(segment["d"]),
                        motion=str(seg_meta.get("mo", "none")),
                        zoom=float(seg_meta.get("z", 1.0)),
                        easing=str(seg_meta.get("ea", "linear")),
                        fit=str(seg_meta.get("fit", "cover")),
                        focus=(float(focus[0]), float(focus[1])),
                        transition_ms=_ms(seg_meta.get("xf", 0)),
                        label=str(seg_meta.get("n", "")),
                        transition=str(seg_meta.get("tk", "crossfade")),
                    )
                )
            elif kind == TRACK_AUDIO:
                audio.append(
                    AudioClip(
                        src=str(seg_meta["src"]),
                        start_ms=_ms(segment.get("st", 0)),
                        volume=float(seg_meta.get("v", 1.0)),
                        fade_in_ms=_ms(seg_meta.get("fi", 0)),
                        fade_out_ms=_ms(seg_meta.get("fo", 0)),
                        label=str(seg_meta.get("n", "")),
                    )
                )
            elif kind == TRACK_TEXT:
                text.append(
                    TextClip(
                        text=str(seg_meta["txt"]),
                        start_ms=_ms(segment.get("st", 0)),
                        duration_ms=None if seg_meta.get("toEnd") else _ms(segment["d"]),
                        position=str(seg_meta.get("pos", "bottom")),
                        size=float(seg_meta.get("sz", 72.0)),
                        fade_ms=_ms(seg_meta.get("fd", 300)),
                        style=CaptionStyle.from_body(seg_meta.get("sty") or {}),
                    )
                )
            elif kind == TRACK_OVERLAY:
                overlays.append(_overlay_clip(segment, seg_meta))
            else:
                raise DraftError(f"the timeline has a track of unknown type {kind!s}")
    return replace(draft, video=tuple(video), audio=tuple(audio), text=tuple(text), overlays=tuple(overlays))


_TRACK_KINDS = {TRACK_VIDEO: "Video", TRACK_AUDIO: "BGM", TRACK_TEXT: "Text", TRACK_OVERLAY: "Overlay"}
_LABEL_KEYS = ("n", "name", "label", "title")
_TEXT_KEYS = ("txt", "text", "content", "tx")


def summarize_timeline(data: Any) -> str:
    """The one-line summary of a draft as the service sent it, reading what it can; never raises."""
    used, parts = timeline_parts(data)
    if not parts:
        return "Timeline (0 tracks): empty"
    numbered = " ".join(f"{index}. {part}" for index, part in enumerate(parts, start=1))
    return f"Timeline ({used} {'track' if used == 1 else 'tracks'}): {numbered}"


def timeline_parts(data: Any) -> tuple[int, list[str]]:
    """The tracks used and one phrase per segment of a draft as the service sent it; never raises.

    Only ``t``, ``tt``, ``sg`` and ``d`` are documented (docs/protocol.md), so everything else (names,
    texts, volumes) is read where it is found and simply left out where it is not.
    """
    tracks = data.get("t") if isinstance(data, dict) else None
    parts: list[str] = []
    used = 0
    for track in tracks if isinstance(tracks, list) else []:
        segments = track.get("sg") if isinstance(track, dict) else None
        if not isinstance(segments, list) or not segments:
            continue
        used += 1
        kind = _TRACK_KINDS.get(track.get("tt"), "Track") if isinstance(track.get("tt"), int) else "Track"
        position = 0.0
        for segment in segments:
            if not isinstance(segment, dict):
                continue
            start = _number(segment.get("st"), position)
            end = start + _number(segment.get("d"), 0.0)
            position = end
            parts.append(_segment_phrase(kind, segment, start, end))
    return used, parts


def _segment_phrase(kind: str, segment: dict[str, Any], start: float, end: float) -> str:
    found = segment.get("m")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    span = f"{_secs(int(start))}-{_secs(int(end))}s"
    label = _first_text(meta, _LABEL_KEYS) or _first_text(segment, _LABEL_KEYS)
    if kind == "Video":
        return f"Video: {label or _first_text(meta, ('mo',)) or 'clip'} ({span})"
    if kind == "BGM":
        volume = meta.get("v")
        loud = f", {round(volume * 100)}%" if isinstance(volume, (int, float)) and not isinstance(volume, bool) else ""
        return f"BGM: {label or 'music'} ({span}{loud})"
    if kind == "Text":
        words = _first_text(meta, _TEXT_KEYS) or _first_text(segment, _TEXT_KEYS)
        title = "Title" if meta.get("pos") == "top" or start == 0 else "Caption"
        return f'{title}: "{words}" ({span})' if words else f"{title} ({span})"
    return f"{kind}: {label or 'segment'} ({span})"


def _first_text(mapping: Any, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if isinstance(value, str) and value:
            return value
    return ""


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return default
    return float(value)
