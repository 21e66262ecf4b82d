"""What ``run --dry-run`` says a job will do: each step in a few words (a prompt step as the local interpreter
reads it), and the clip length that follows once the prompts' camera moves and transitions are counted."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import PurePath
from typing import TYPE_CHECKING

from joypix_recipes.job.actions import (
    BUILTIN_MUSIC,
    Action,
    Animate,
    Audio,
    Fade,
    Prompt,
    Reframe,
    Subtitles,
    Text,
    Transition,
)
from joypix_recipes.job.kinds.kind import stated as stated_fields
from joypix_recipes.job.kinds.wording import number, quoted

if TYPE_CHECKING:
    from joypix_recipes.job.model import Job, PlannedStep
    from joypix_recipes.timeline.interpret import Interpretation


def understood(job: Job) -> list[list[str] | None]:
    """Per step, what it asks for in short phrases; None for a prompt the local interpreter never reads
    (another backend's agent reads it)."""
    from joypix_recipes.timeline.interpret import interpret_prompt

    said: list[list[str] | None] = []
    for step in job.steps:
        action = step.action
        if not isinstance(action, Prompt):
            said.append([describe(action)])
        elif job.backend != "local":
            said.append(None)
        else:
            reading = interpret_prompt(action.text)
            words = [describe(found, stated) for found, stated in _read(reading)]
            words += [f"not understood: {quoted(phrase)}" for phrase in reading.unknown]
            said.append(words or ["nothing"])
    return said


def planned_seconds(job: Job) -> float:
    """The planned clip length, reading a local job's prompts for the camera moves and transitions they state."""
    from joypix_recipes.recipe.plan import clip_seconds

    if job.backend != "local":
        return clip_seconds(job)
    return clip_seconds(replace(job, steps=_with_prompts_read(job.steps)))


def _with_prompts_read(steps: tuple[PlannedStep, ...]) -> tuple[PlannedStep, ...]:
    """The steps with each prompt's move and transition as steps of their own, merged as the local backend
    merges them: a prompt that states only a duration keeps the motion set before it."""
    from joypix_recipes.timeline.interpret import interpret_prompt

    read: list[PlannedStep] = []
    move, join = Animate(), Transition()
    for step in steps:
        action = step.action
        if isinstance(action, Animate):
            move = action
        elif isinstance(action, Transition):
            join = action
        elif isinstance(action, Prompt):
            reading = interpret_prompt(action.text)
            for found, stated in _read(reading):
                if isinstance(found, Animate):
                    move = replace(move, **stated_fields(found, stated))
                    read.append(replace(step, action=move))
                elif isinstance(found, Transition):
                    join = replace(join, **stated_fields(found, stated))
                    read.append(replace(step, action=join))
            continue
        read.append(step)
    return tuple(read)


def _read(reading: Interpretation) -> list[tuple[Action, frozenset[str] | None]]:
    """Each action a prompt was read into, with the fields it stated (None: all of them)."""
    given: tuple[frozenset[str] | None, ...] = reading.given or tuple(None for _ in reading.actions)
    return list(zip(reading.actions, given, strict=True))


def describe(action: Action, given: Collection[str] | None = None) -> str:
    """One action in a few words, naming only the fields in ``given`` when it is set (what a prompt stated)."""
    if isinstance(action, Animate):
        return _camera(action, given)
    if isinstance(action, Text):
        kind = "title" if action.position == "top" else "caption"
        return f"{kind} {quoted(action.content)} at {action.position}{_timing(action.start, action.end)}"
    if isinstance(action, Fade):
        return _fades(action.fade_in, action.fade_out, given) or "no fades"
    if isinstance(action, Audio):
        return _music(action, given)
    if isinstance(action, Transition):
        if action.kind == "none" or not action.duration:
            return "hard cuts between images"
        timed = given is None or "duration" in given
        return f"{action.kind} {_s(action.duration)} between images" if timed else f"{action.kind} between images"
    if isinstance(action, Reframe):
        return "reframe to " + " ".join(part for part in (action.aspect, action.resolution) if part)
    if isinstance(action, Subtitles):
        return f"{len(action.cues)} subtitle{'s' if len(action.cues) != 1 else ''} at {action.position}"
    if isinstance(action, Prompt):
        return f"prompt {quoted(action.text)}"
    return type(action).__name__.lower()


def _camera(action: Animate, given: Collection[str] | None) -> str:
    said = set(given) if given is not None else {"motion", "duration", "zoom", "easing", "fit"}
    if action.motion == "none" and "motion" in said:
        parts = ["no camera motion"]
    elif "motion" in said:
        parts = [action.motion]
    else:
        parts = ["camera move"]
    if "zoom" in said and action.motion != "none":
        parts.append(f"at {number(action.zoom)}x")
    if "duration" in said:
        parts.append(f"over {_s(action.duration)}")
    if "easing" in said and given is not None:  # a recipe's own easing goes unsaid unless a prompt asked for it
        parts.append(f"{action.easing} easing")
    if "fit" in said and (given is not None or action.fit != "cover"):
        parts.append("over a blurred background" if action.fit == "blur" else "cropped to cover")
    return " ".join(parts)


def _music(action: Audio, given: Collection[str] | None) -> str:
    said = set(given) if given is not None else {"file", "volume", "fade_in", "fade_out"}
    if "file" in said:
        music = "music" if action.file == BUILTIN_MUSIC else f"music {quoted(PurePath(action.file).name)}"
    else:
        music = "music"
    parts = [music]
    if "volume" in said:
        parts.append(f"at {number(action.volume * 100)}%")
    fades = _fades(action.fade_in, action.fade_out, given, quiet=given is None)
    return " ".join(parts) + (f", {fades}" if fades else "")


def _fades(fade_in: float, fade_out: float, given: Collection[str] | None, *, quiet: bool = False) -> str:
    """``fade in 0.3 s, fade out 1 s``; a side given as 0 is ``no fade in``, an unstated side goes unsaid."""
    sides = []
    for side, value in (("in", fade_in), ("out", fade_out)):
        if given is not None and f"fade_{side}" not in given:
            continue
        if value:
            sides.append(f"fade {side} {_s(value)}")
        elif not quiet:
            sides.append(f"no fade {side}")
    return ", ".join(sides)


def _timing(start: float, end: float | None) -> str:
    if end is not None:
        return f" from {_s(start)} to {_s(end)}"
    return f" from {_s(start)}" if start else ""


def _s(value: float) -> str:
    return f"{number(value)} s"
