"""Applying edit actions to a draft: the pure functions the local backend and the emulator build timelines with.

Every function returns a new Draft and does no I/O. Each kind says what it does to a timeline
(``job.kinds``); ``DraftTimeline`` is that timeline over a draft, in the draft's units and limits.
Animate gives every video clip the same camera move (each image of a group moves for ``duration``
seconds; the renderer seeds each clip's ken-burns apart); Transition sets how each clip after the first enters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any

from joypix_recipes.job.actions import (
    ANCHORS,
    BUILTIN_MUSIC,
    EASINGS,
    FITS,
    MOTIONS,
    POSITIONS,
    TRANSITIONS,
    Action,
    Animate,
    CaptionStyle,
    Overlay,
)
from joypix_recipes.job.export import ASPECTS, RESOLUTIONS, ExportSettings, frame_size
from joypix_recipes.job.kinds.registry import kind_of
from joypix_recipes.timeline.draft import AudioClip, Draft, ImageClip, TextClip, VideoClip
from joypix_recipes.timeline.interpret import Interpretation

DEFAULT_ANIMATE = Animate()
"""A new clip moves like an ``animate: {}`` step (a slow 1.25x ease-in-out zoom-in for 5 s), so a recipe
without an animate step still gives a living clip, and adding one with defaults changes nothing."""


def new_draft(export: ExportSettings, seed: int = 0) -> Draft:
    """An empty timeline with the export's frame size and fps."""
    width, height = export.size
    return Draft(width=width, height=height, fps=export.fps, seed=seed)


def add_image(draft: Draft, src: str, label: str = "", transition_ms: int = 0) -> Draft:
    """Append a still as the next video clip, crossfading ``transition_ms`` into the previous one."""
    if transition_ms < 0:
        raise ValueError("a transition cannot be negative")
    duration_ms = seconds_to_ms(DEFAULT_ANIMATE.duration)
    if not draft.video:
        transition_ms = 0  # nothing to cross into
    elif transition_ms * 2 > min(draft.video[-1].duration_ms, duration_ms):
        raise ValueError("a transition must be at most half as long as the clips it joins")
    clip = VideoClip(
        src=src,
        duration_ms=duration_ms,
        motion=DEFAULT_ANIMATE.motion,
        zoom=DEFAULT_ANIMATE.zoom,
        easing=DEFAULT_ANIMATE.easing,
        fit=DEFAULT_ANIMATE.fit,
        transition_ms=transition_ms,
        label=label,
    )
    return draft.with_changes(video=draft.video + (clip,))


def apply_action(draft: Draft, action: Action, *, fields: Collection[str] | None = None) -> Draft:
    """Apply one action; ``fields`` limits it to the fields a prompt actually stated (kinds that edit in part heed it).

    Raises ValueError for a Prompt (interpret it first) or a value the draft cannot hold.
    """
    return kind_of(action).apply(action, DraftTimeline(draft), fields).draft


def seconds_to_ms(seconds: float) -> int:
    """Seconds (as actions hold them) to whole milliseconds (as the draft holds them)."""
    return round(seconds * 1000)


def current_format(draft: Draft) -> tuple[str, str]:
    """The (aspect, resolution) names closest to the draft's frame size."""
    for aspect in ASPECTS:
        for resolution in RESOLUTIONS:
            if frame_size(aspect, resolution) == (draft.width, draft.height):
                return aspect, resolution
    # A size made elsewhere (a cloud draft): take the nearest names.
    short = min(draft.width, draft.height)
    resolution = min(RESOLUTIONS, key=lambda name: abs(frame_size("1:1", name)[0] - short))
    ratio = draft.width / draft.height
    aspect = min(ASPECTS, key=lambda name: abs(_ratio(name) - ratio))
    return aspect, resolution


def _ratio(aspect: str) -> float:
    width, height = (int(part) for part in aspect.split(":"))
    return width / height


@dataclass(frozen=True)
class DraftTimeline:
    """A draft as kinds edit it (the ``Timeline`` protocol of the job layer): seconds in, milliseconds kept."""

    draft: Draft

    @property
    def has_music(self) -> bool:
        """Whether a background track is already set."""
        return bool(self.draft.audio)

    def move_camera(self, stated: Mapping[str, Any]) -> DraftTimeline:
        """Every image moves so."""
        if not self.draft.video:
            raise ValueError("there is no image to animate yet")
        return DraftTimeline(self.draft.with_changes(video=tuple(_animated(clip, stated) for clip in self.draft.video)))

    def join_images(self, kind: str, seconds: float) -> DraftTimeline:
        """How each image after the first enters."""
        kind = _choice(kind, TRANSITIONS, "transition")
        overlap_ms = 0 if kind == "none" else seconds_to_ms(_non_negative(seconds, "a transition"))
        clips = list(self.draft.video)
        for index in range(1, len(clips)):
            if overlap_ms * 2 > min(clips[index - 1].duration_ms, clips[index].duration_ms):
                raise ValueError("a transition must be at most half as long as the images it joins")
            clips[index] = replace(clips[index], transition_ms=overlap_ms, transition=kind)
        return DraftTimeline(self.draft.with_changes(video=tuple(clips)))

    def add_caption(
        self, content: str, position: str, start: float, end: float | None, size: float, style: CaptionStyle
    ) -> DraftTimeline:
        """One more text clip."""
        return self.add_captions([(content, start, end)], position, size, style)

    def add_captions(
        self, timed: Sequence[tuple[str, float, float | None]], position: str, size: float, style: CaptionStyle
    ) -> DraftTimeline:
        """More text clips in one style, each ``(content, start, end)``; the draft is copied once for all."""
        clips = tuple(_caption(content, position, start, end, size, style) for content, start, end in timed)
        return DraftTimeline(self.draft.with_changes(text=self.draft.text + clips))

    def set_music(self, stated: Mapping[str, Any]) -> DraftTimeline:
        """The background track's stated fields; a new file starts a new track."""
        base = (
            AudioClip(src=str(stated.get("file", BUILTIN_MUSIC)))
            if "file" in stated or not self.draft.audio
            else self.draft.audio[0]
        )
        changes: dict[str, Any] = {}
        if "file" in stated:
            src = str(stated["file"])
            changes["src"] = src
            changes["label"] = "" if src == BUILTIN_MUSIC else PurePath(src).name
        if "volume" in stated:
            changes["volume"] = _non_negative(stated["volume"], "volume")
        if "fade_in" in stated:
            changes["fade_in_ms"] = seconds_to_ms(_non_negative(stated["fade_in"], "an audio fade"))
        if "fade_out" in stated:
            changes["fade_out_ms"] = seconds_to_ms(_non_negative(stated["fade_out"], "an audio fade"))
        # One background track: a new one replaces the old.
        return DraftTimeline(self.draft.with_changes(audio=(replace(base, **changes),)))

    def set_fades(self, fade_in: float | None, fade_out: float | None) -> DraftTimeline:
        """Fades from and to black; None leaves one as it is."""
        changes: dict[str, Any] = {}
        if fade_in is not None:
            changes["fade_in_ms"] = seconds_to_ms(_non_negative(fade_in, "a fade"))
        if fade_out is not None:
            changes["fade_out_ms"] = seconds_to_ms(_non_negative(fade_out, "a fade"))
        return DraftTimeline(self.draft.with_changes(**changes))

    def reframe(self, aspect: str | None, resolution: str | None) -> DraftTimeline:
        """The frame at a new aspect or resolution, the other kept."""
        current_aspect, current_resolution = current_format(self.draft)
        aspect = current_aspect if aspect is None else _choice(aspect, ASPECTS, "aspect")
        resolution = current_resolution if resolution is None else _choice(resolution, RESOLUTIONS, "resolution")
        width, height = frame_size(aspect, resolution)
        return DraftTimeline(self.draft.with_changes(width=width, height=height))


    def add_overlay(self, overlay: Overlay) -> DraftTimeline:
        """One more image layer, on top of those before it."""
        return DraftTimeline(self.draft.with_changes(overlays=self.draft.overlays + (_image_clip(overlay),)))


def _image_clip(overlay: Overlay) -> ImageClip:
    if overlay.start < 0:
        raise ValueError("an overlay cannot start before the clip")
    if overlay.end is not None and overlay.end <= overlay.start:
        raise ValueError("an overlay must end after it starts")
    if not 0 < overlay.width <= 1:
        raise ValueError("an overlay's width is a share of the frame width, above 0 and at most 100%")
    if not 0 <= overlay.opacity <= 1:
        raise ValueError("an overlay's opacity is between 0 and 100%")
    start_ms = seconds_to_ms(overlay.start)
    return ImageClip(
        src=overlay.image,
        start_ms=start_ms,
        duration_ms=None if overlay.end is None else seconds_to_ms(overlay.end) - start_ms,
        position=_choice(overlay.position, ANCHORS, "position"),
        x=overlay.x,
        y=overlay.y,
        width=float(overlay.width),
        margin=float(_non_negative(overlay.margin, "an overlay margin")),
        opacity=float(overlay.opacity),
        fade_in_ms=seconds_to_ms(_non_negative(overlay.fade_in, "an overlay fade")),
        fade_out_ms=seconds_to_ms(_non_negative(overlay.fade_out, "an overlay fade")),
        label=PurePath(overlay.image).name,
    )


def _caption(
    content: str, position: str, start: float, end: float | None, size: float, style: CaptionStyle
) -> TextClip:
    if not content:
        raise ValueError("a text overlay needs some text")
    if start < 0:
        raise ValueError("a text overlay cannot start before the clip")
    if end is not None and end <= start:
        raise ValueError("a text overlay must end after it starts")
    if size <= 0:
        raise ValueError("text size must be positive")
    start_ms = seconds_to_ms(start)
    return TextClip(
        text=content,
        start_ms=start_ms,
        duration_ms=None if end is None else seconds_to_ms(end) - start_ms,
        position=_choice(position, POSITIONS, "position"),
        size=float(size),
        style=style,
    )


def _animated(clip: VideoClip, stated: Mapping[str, Any]) -> VideoClip:
    changes: dict[str, Any] = {}
    if "motion" in stated:
        changes["motion"] = _choice(str(stated["motion"]), MOTIONS, "motion")
    if "duration" in stated:
        duration_ms = seconds_to_ms(float(stated["duration"]))
        if duration_ms <= 0:
            raise ValueError("an animation must last longer than zero seconds")
        changes["duration_ms"] = duration_ms
        changes["transition_ms"] = min(clip.transition_ms, duration_ms // 2)
    if "zoom" in stated:
        zoom = float(stated["zoom"])
        if zoom < 1.0:
            raise ValueError("zoom must be 1.0 or more")
        changes["zoom"] = zoom
    if "easing" in stated:
        changes["easing"] = _choice(str(stated["easing"]), EASINGS, "easing")
    if "fit" in stated:
        changes["fit"] = _choice(str(stated["fit"]), FITS, "fit")
    return replace(clip, **changes)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, not {value}")
    return value


def _non_negative(value: Any, what: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(f"{what} cannot be negative")
    return number


def apply_interpretation(draft: Draft, interpretation: Interpretation) -> Draft:
    """Apply what a prompt asked for, changing only the fields it stated ("make it 10 seconds" keeps the motion)."""
    given: tuple[Collection[str] | None, ...] = interpretation.given or (None,) * len(interpretation.actions)
    for action, fields in zip(interpretation.actions, given):
        draft = apply_action(draft, action, fields=fields)
    return draft
