"""Structured recipe steps -> the plain-English prompts the cloud agent is sent; every template lives here.

Each prompt reads back through ``interpret.interpret_prompt`` to an equivalent action (a tested property),
so the emulator, which understands prompts with that interpreter, edits drafts as the local backend does.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import PurePath

from joypix_recipes.job.actions import (
    BUILTIN_MUSIC,
    BUNDLED_FONTS,
    Action,
    Animate,
    Audio,
    CaptionStyle,
    Fade,
    Prompt,
    Reframe,
    Subtitles,
    Text,
    Transition,
)
from joypix_recipes.job.export import fps_label
from joypix_recipes.timeline.interpret import ZOOM_WORDS

_MOTION_NOUNS = {
    "zoom-in": "zoom-in",
    "zoom-out": "zoom-out",
    "pan-left": "pan to the left",
    "pan-right": "pan to the right",
    "pan-up": "pan up",
    "pan-down": "pan down",
    "ken-burns": "Ken Burns move",
}
_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"))


def prompt_for(action: Action, *, audio_name: str | None = None, images: int = 1) -> str:
    """The agent prompt for one step; ``audio_name`` is how the uploaded audio file is known to the agent.

    ``images`` is how many images the session holds: a group's camera move is asked for each of them.
    """
    if isinstance(action, Prompt):
        return action.text
    if isinstance(action, Animate):
        return _animate(action, "each image" if images > 1 else "this image")
    if isinstance(action, Transition):
        return _transition(action)
    if isinstance(action, Text):
        return _text(action)
    if isinstance(action, Subtitles):
        return _subtitles(action)
    if isinstance(action, Audio):
        return _audio(action, audio_name)
    if isinstance(action, Fade):
        return _fade(action)
    if isinstance(action, Reframe):
        return _reframe(action)
    raise TypeError(f"no prompt template for {type(action).__name__}")


def format_request(aspect: str, resolution: str, fps: Fraction) -> str:
    """The frame a job wants, in words the agent reads (sent with the first step, not as a turn of its own)."""
    return f"Make the video {aspect} at {resolution}, {fps_label(fps)} fps."


def sequence_request(count: int) -> str:
    """A group's order, in words: the images play as they were uploaded (sent with the first step)."""
    return f"Play the {count} uploaded images one after another in the order they were uploaded."


_TRANSITION_NOUNS = {
    "crossfade": "crossfade",
    "dip-to-black": "dip to black",
    "slide-left": "slide left",
    "slide-right": "slide right",
    "slide-up": "slide up",
    "slide-down": "slide down",
    "wipe-left": "wipe left",
    "wipe-right": "wipe right",
    "zoom": "zoom",
}


def _transition(action: Transition) -> str:
    if action.kind == "none" or not action.duration:
        return "Cut between the images with no transitions."
    return f"Join the images with {_number(action.duration)}-second {_TRANSITION_NOUNS[action.kind]} transitions."


def _animate(action: Animate, subject: str = "this image") -> str:
    smooth = "smooth " if action.easing == "ease-in-out" else ""
    clip = f"Animate {subject} into a {smooth}{_number(action.duration)}-second video clip"
    if action.motion == "none":
        camera = (
            "no camera motion" if action.zoom == Animate.zoom else f"no camera motion at {_number(action.zoom)}x zoom"
        )
    else:
        camera = f"a {_strength(action.zoom)} {_MOTION_NOUNS[action.motion]}"
    fit = " over a blurred background" if action.fit == "blur" else ""
    linear = " and linear easing" if action.easing == "linear" else ""
    return f"{clip} with {camera}{fit}{linear}."


def _text(action: Text) -> str:
    kind = "title" if action.position == "top" else "caption"
    if action.end is not None:
        timing = f"from {_number(action.start)}s to {_number(action.end)}s"
    elif action.start:
        timing = f"from {_number(action.start)}s until the end"
    else:
        timing = "for the whole clip"
    size = "" if action.size == Text.size else f" at size {_number(action.size)}"
    return (
        f"Add the {kind} {_quoted(action.content)} at the {action.position} {timing}{size}.{_style(action.style, 'it')}"
    )


def _subtitles(action: Subtitles) -> str:
    """One caption sentence per cue, then the shared style once."""
    plain = [Text(cue.content, action.position, cue.start, cue.end, action.size) for cue in action.cues]
    return " ".join(_text(caption) for caption in plain) + _style(action.style, "these captions")


_FAMILY_WORDS = {
    "sans": "a clean sans-serif",
    "sans-bold": "a bold sans-serif",
    "serif": "a serif",
    "serif-bold": "a bold serif",
}
_ENTRANCE_WORDS = {"slide-up": "let {} slide up into place", "pop": "let {} pop in", "none": "show {} without a fade"}


def _style(style: CaptionStyle, subject: str) -> str:
    """The caption's look in words, as a sentence of its own; nothing when the style is the default.

    The service cannot receive a font file, so a file becomes a request for a typeface like the brand's,
    saying that the file itself is applied only by local renders. Its name is left out: quoted, it
    would read as one more caption.
    """
    them = "it" if subject == "it" else "them"
    words: list[str] = []
    if style.font in _FAMILY_WORDS:
        words.append(f"set {them} in {_FAMILY_WORDS[style.font]} typeface")
    elif style.font not in BUNDLED_FONTS:
        words.append(f"set {them} in a typeface like the brand's own (its font file is applied only by local renders)")
    if style.color != CaptionStyle.color:
        words.append(f"colour the text {style.color}")
    if style.stroke is not None:
        words.append(f"outline the letters {_number(style.stroke.width)} pixels wide in {style.stroke.color}")
    if style.box is not None:
        box = style.box
        words.append(
            f"put {them} on a {box.color} plate with {_number(box.padding)}-pixel padding and {_number(box.radius)}-pixel rounded corners"
        )
    if style.align != CaptionStyle.align:
        words.append(f"align {them} {style.align}")
    if style.animate in _ENTRANCE_WORDS:
        words.append(_ENTRANCE_WORDS[style.animate].format(them))
    if not words:
        return ""
    return f" Style {subject}: {'; '.join(words)}."


def _audio(action: Audio, audio_name: str | None) -> str:
    if action.file == BUILTIN_MUSIC and audio_name is None:
        music = "Add background music"
    else:
        music = f"Add background music {_quoted(audio_name or PurePath(action.file).name)}"
    fades = [
        f"a {_number(seconds)}-second fade-{side}"
        for side, seconds in (("in", action.fade_in), ("out", action.fade_out))
        if seconds
    ]
    ending = f" with {' and '.join(fades)}" if fades else ""
    return f"{music} at {_number(action.volume * 100)}% volume{ending}."


def _fade(action: Fade) -> str:
    if not action.fade_in and not action.fade_out:
        return "No fade-in and no fade-out."
    fade_in = f"Fade in from black over {_seconds(action.fade_in)}" if action.fade_in else ""
    fade_out = f"fade out to black over {_seconds(action.fade_out)}" if action.fade_out else ""
    if fade_in and fade_out:
        return f"{fade_in} and {fade_out}."
    if fade_in:
        return f"{fade_in}, with no fade-out."
    return f"{fade_out[0].upper()}{fade_out[1:]}, with no fade-in."


def _reframe(action: Reframe) -> str:
    if action.aspect and action.resolution:
        return f"Reframe the video to {action.aspect} at {action.resolution}."
    if action.aspect:
        return f"Reframe the video to {action.aspect}."
    if action.resolution:
        return f"Export the video at {action.resolution}."
    return "Keep the current frame size."


def _strength(zoom: float) -> str:
    for word, value in ZOOM_WORDS.items():
        if zoom == value:
            return word
    return f"{_number(zoom)}x"


def _seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{_number(value)} seconds"


def _number(value: float) -> str:
    """Shortest plain decimal that reads back as the same value to the millisecond (no exponent)."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return text or "0"


def _quoted(content: str) -> str:
    for opening, closing in _QUOTE_PAIRS:
        if closing not in content:
            return f"{opening}{content}{closing}"
    return f'"{content.replace(chr(34), chr(39))}"'  # every closing mark is in the text: lose the least
