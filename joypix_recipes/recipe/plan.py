"""Planning: recipe x inputs x variants -> self-contained Jobs, every template rendered and every path absolute.

All problems (missing inputs, templates failing for one input, clashing outputs) are collected and
raised together as one PlanError, one line each, before anything runs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from joypix_recipes.errors import PlanError
from joypix_recipes.job.export import SILENT_FORMATS
from joypix_recipes.job.kinds.kind import Action, Field
from joypix_recipes.job.kinds.registry import is_kind, kind_named
from joypix_recipes.job.model import Job, JobInput, PlannedStep, poster_path
from joypix_recipes.printable import printable
from joypix_recipes.recipe.checks import definition
from joypix_recipes.recipe.inputs import Source, absolute, command_line_sources, is_file, job_input_of, recipe_sources
from joypix_recipes.recipe.model import (
    Number,
    Recipe,
    Step,
    StepValue,
    Template,
    Variant,
    export_settings,
)
from joypix_recipes.recipe.schema import field_schema, number_issues
from joypix_recipes.recipe.source import Span
from joypix_recipes.recipe.table import Tables
from joypix_recipes.recipe.template.render import (
    Namespace,
    TemplateFailure,
    UnsafeNameValue,
    evaluate_expression,
    has_template_syntax,
    render_number,
    render_output,
    render_template,
    safe_output_path,
)

if TYPE_CHECKING:  # each kind's module loads with the first step of that kind
    from joypix_recipes.job.kinds.animate import Animate
    from joypix_recipes.job.kinds.captions import CaptionStyle
    from joypix_recipes.job.kinds.prompt import Prompt
    from joypix_recipes.job.kinds.subtitles import Cue
    from joypix_recipes.job.kinds.transition import Transition

MAX_PROBLEM_LINES = 50

PromptCheck = Callable[[str], Sequence[tuple[str, Sequence[str]]]]
"""The local renderer's reading of a prompt: each phrase it does not understand, with the nearest phrases it does.

The interpreter lives on the run side, which the recipe side does not import; the command line hands it in."""


@dataclass(frozen=True)
class Plan:
    """What planning makes: the jobs to run, the inputs left out (one line each: which and why), and warnings."""

    jobs: tuple[Job, ...]
    rejected: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def plan_jobs(
    recipe: Recipe,
    *,
    inputs: Sequence[str] | None = None,
    var_overrides: Mapping[str, str] = {},
    out_dir: Path | None = None,
    backend: str | None = None,
    group: bool = False,
    strict: bool = True,
    tables: Tables | None = None,
    prompts: PromptCheck | None = None,
) -> Plan:
    """One Job per input and variant; ``inputs`` (from --input) replace the recipe's; raises PlanError.

    With ``group``, each of ``inputs`` (a folder, a glob or a file) is one group: its images make one clip.
    Unless ``strict``, a job that only its input's name spoils (a backslash in it, say), and a table row
    that cannot run (its picture missing), are left out and named in ``Plan.rejected``, so the other
    inputs still run. ``Plan.warnings`` names clips longer than their preset's platform takes.
    ``tables`` holds the tables already read for this run (by ``load_recipe``, say), so none is read twice.
    With ``prompts``, a prompt the local backend would fail on (``unknown_phrases: fail``) is a problem here,
    at the phrase's own line and column, before anything renders.
    """
    out = absolute(Path(out_dir).expanduser() if out_dir is not None else recipe.directory / "out")
    if inputs is not None:
        found = command_line_sources(inputs, out, tables, group=group)
    else:
        found = recipe_sources(recipe, out, tables)
    problems = [*found.problems, *(found.bad_rows if strict else ())]
    if not found.sources and not problems and not found.bad_rows:
        problems.append(f"{recipe.file}: no inputs; list images under inputs: or pass --input PATH")
    _raise_if(problems)
    planner = _Planner(recipe, dict(var_overrides), out, backend or recipe.backend, strict)
    if planner.backend == "local" and recipe.unknown_phrases == "fail":
        planner.prompts = prompts
    jobs: list[Job] = []
    too_long: dict[str, list[Job]] = {}
    for index, source in enumerate(found.sources, start=1):
        for variant in recipe.variants or (None,):
            job = planner.plan(source, index, variant)
            if job is not None:
                jobs.append(job)
                preset = variant.export.get("preset", recipe.preset) if variant else recipe.preset
                if preset is not None and _longer_than_platform(job, preset):
                    too_long.setdefault(preset, []).append(job)
    problems += planner.problems + _clashes(recipe, jobs) + _replaced_inputs(jobs)
    _raise_if(problems)
    warnings = tuple(_length_warning(preset, late) for preset, late in too_long.items()) + _silent_formats(jobs)
    rejected = () if strict else (*found.bad_rows, *planner.rejected)
    return Plan(tuple(jobs), rejected, warnings)


def clip_seconds(job: Job) -> float:
    """How long a job's clip is planned to be: each image's camera move (the last animate step's, or the
    default move's), less the overlaps of the transitions between a group's images."""
    moves = [cast("Animate", step.action) for step in job.steps if is_kind(step.action, "animate")]
    each = moves[-1].duration if moves else _default_animate_seconds()
    joins = [cast("Transition", step.action) for step in job.steps if is_kind(step.action, "transition")]
    overlap = joins[-1].duration if joins and joins[-1].kind != "none" else 0.0
    count = max(len(job.input.files), 1)
    return count * each - (count - 1) * overlap


def _default_animate_seconds() -> float:
    from joypix_recipes.job.kinds.animate import Animate

    return Animate().duration


def _longer_than_platform(job: Job, preset: str) -> bool:
    from joypix_recipes.job.presets import PRESETS

    longest = PRESETS[preset].longest_seconds
    return longest is not None and clip_seconds(job) > longest


def _length_warning(preset: str, jobs: list[Job]) -> str:
    from joypix_recipes.job.presets import PRESETS

    longest = PRESETS[preset].longest_seconds
    shown = ", ".join(f"{job.label} ({clip_seconds(job):g} s)" for job in jobs[:3])
    more = f" and {len(jobs) - 3} more" if len(jobs) > 3 else ""
    return (
        f"{shown}{more} longer than {preset} takes ({longest:g} s); shorten the animate duration or pick another preset"
    )


def _silent_formats(jobs: list[Job]) -> tuple[str, ...]:
    """GIF and WebP carry no sound: a recipe that adds music to them hears about it once per format."""
    silent = {
        job.export.format
        for job in jobs
        if job.export.format in SILENT_FORMATS and any(is_kind(step.action, "audio") for step in job.steps)
    }
    return tuple(f"{name} clips have no sound: the audio step is left out of them" for name in sorted(silent))


def _raise_if(problems: list[str]) -> None:
    if not problems:
        return
    unique = list(dict.fromkeys(problems))
    shown = unique[:MAX_PROBLEM_LINES]
    if len(unique) > MAX_PROBLEM_LINES:
        shown.append(f"... and {len(unique) - MAX_PROBLEM_LINES} more problems")
    raise PlanError("\n".join(shown))


class _Planner:
    """Plans single jobs, collecting every problem as one message line."""

    def __init__(self, recipe: Recipe, overrides: dict[str, str], out: Path, backend: str, strict: bool) -> None:
        self.strict = strict
        self.rejected: list[str] = []  # jobs only their input's name spoils, left out unless strict
        self.recipe = recipe
        self.overrides = overrides
        self.out = out
        self.backend = backend
        self.problems: list[str] = []
        self.sizes: dict[Path, tuple[int, int]] = {}
        self.unreadable: dict[Path, str] = {}
        self.cues: dict[Path, tuple[Cue, ...]] = {}
        self.prompts: PromptCheck | None = None
        self.missing: set[Path] = set()  # media files already reported missing

    def plan(self, source: Source, index: int, variant: Variant | None) -> Job | None:
        job_input = job_input_of(source, index)
        name = printable(job_input.name)
        label = f"{name} [{variant.name}]" if variant else name
        values = {**self.recipe.vars, **source.vars, **(variant.vars if variant else {}), **self.overrides}
        context = self._context(job_input, variant, values, label)
        before = len(self.problems)
        steps = tuple(
            planned for step in self.recipe.steps if (planned := self._step(step, context, label)) is not None
        )
        export = export_settings(self.recipe.export, variant.export) if variant else self.recipe.export
        output = self._output(variant, context, label, export.suffix)
        if len(self.problems) > before or output is None:
            return None
        return Job(
            recipe_name=self.recipe.name,
            recipe_path=self.recipe.path,
            input=job_input,
            variant=variant.name if variant else None,
            steps=steps,
            export=export,
            output=output,
            backend=self.backend,
            seed=self.recipe.seed,
            unknown_phrases=self.recipe.unknown_phrases,
            vars=values,
        )

    def _context(
        self, job_input: JobInput, variant: Variant | None, values: dict[str, Any], label: str
    ) -> dict[str, Any]:
        fields = {
            "path": job_input.display,
            "name": job_input.name,
            "stem": job_input.stem,
            "suffix": job_input.suffix,
            "index": job_input.index,
        }
        loaders: dict[str, Callable[[], Any]] = {
            "width": lambda: self._size(job_input)[0],
            "height": lambda: self._size(job_input)[1],
        }
        # A single image is a group of one, so a template written for groups works on any input.
        fields["count"] = len(job_input.files) or 1
        loaders["images"] = lambda: self._images_fields(job_input)
        return {
            "vars": Namespace("vars", values, missing_hint="; add it under vars: or pass --var {key}=VALUE"),
            "input": Namespace("input", fields, loaders),
            "variant": Namespace(
                "variant", {"name": variant.name} if variant else {}, missing_hint=": this recipe has no variants"
            ),
            "recipe": Namespace("recipe", {"name": self.recipe.name}),
        }

    def _images_fields(self, job_input: JobInput) -> list[dict[str, Any]]:
        """What templates see of each image (``input.images[0].width``); headers are read on first use."""
        if not job_input.files:
            raise LookupError(f"{job_input.display} is a URL, so its size is not known before the job runs")
        fields = []
        for path in job_input.files:
            width, height = self._path_size(path)
            fields.append(
                {"name": path.name, "stem": path.stem, "path": printable(str(path)), "width": width, "height": height}
            )
        return fields

    def _size(self, job_input: JobInput) -> tuple[int, int]:
        """Width and height from the image header, read once, only when a template asks (PIL loads here)."""
        if job_input.path is None:
            raise LookupError(f"{job_input.display} is a URL, so its size is not known before the job runs")
        return self._path_size(job_input.path)

    def _path_size(self, path: Path) -> tuple[int, int]:
        if path not in self.sizes and path not in self.unreadable:
            try:
                self.sizes[path] = read_image_size(path)
            except LookupError as error:
                self.unreadable[path] = str(error.args[0])
        if path in self.unreadable:
            raise LookupError(self.unreadable[path])
        return self.sizes[path]

    def _fail(self, template: Template, failure: TemplateFailure, label: str) -> None:
        problem = self.recipe.problem_at(
            template.span, f"{failure.detail} (input {label})", failure.line, failure.token
        )
        self.problems.append(str(problem))

    def _step(self, step: Step, context: dict[str, Any], label: str) -> PlannedStep | None:
        if isinstance(step.when, Template):
            try:
                if not evaluate_expression(step.when.text, context):
                    return None
            except TemplateFailure as failure:
                self._fail(step.when, failure, label)
                return None
        elif step.when is False:
            return None
        action = self._action(step, context, label)
        return PlannedStep(step.name, action) if action is not None else None

    def _action(self, step: Step, context: dict[str, Any], label: str) -> Action | None:
        """The step's kind built from its fields, each rendered for this input as its role says."""
        kind, before = kind_named(step.kind), len(self.problems)
        values = {field.target: self._value(field, step.body[field.key], step, context, label) for field in kind.fields}
        action: Action = kind.action(**values)
        if len(self.problems) == before and (problem := kind.check(action)) is not None:
            self.problems.append(str(self.recipe.problem_at(step.span, problem)))
        if len(self.problems) == before and is_kind(action, "prompt") and self.prompts is not None:
            self._understood(cast("Prompt", action).text, step.body[kind.fields[0].key], label)
        return action if len(self.problems) == before else None

    def _value(self, field: Field, written: StepValue, step: Step, context: dict[str, Any], label: str) -> Any:
        if field.role == "text" and isinstance(written, Template):
            return self._text(written, context, label)
        if field.role == "media" and isinstance(written, Template):
            return self._media_file(written, step.kind, context, label)
        if field.role == "number" and isinstance(written, Template | float):
            return self._number(written, step, field.key, context, label)
        if field.role == "cues" and isinstance(written, str):
            return self._cues(written, step.span)
        if field.role == "style":
            from joypix_recipes.job.kinds.captions import CaptionStyle  # only kinds with a style have this role

            if isinstance(written, CaptionStyle):
                return self._caption_style(written, step.span)
        return written  # a choice, a number as written, or a text without an end

    def _text(self, template: Template, context: dict[str, Any], label: str) -> str:
        try:
            return render_template(template.text, context)
        except TemplateFailure as failure:
            self._fail(template, failure, label)
            return ""

    def _number(self, value: Number, step: Step, name: str, context: dict[str, Any], label: str) -> float:
        if not isinstance(value, Template):
            return value
        try:
            number = render_number(value.text, context, value.percent)
        except TemplateFailure as failure:
            self._fail(
                value, TemplateFailure(f"{step.kind}.{name} {failure.detail}", failure.line, failure.token), label
            )
            return 0.0
        for issue in number_issues(number, field_schema(definition(step.kind), name), ("steps", 0, step.kind, name)):
            self.problems.append(str(self.recipe.problem_at(value.span, f"{issue.message} (input {label})")))
        return number

    def _caption_style(self, style: CaptionStyle, span: Span) -> CaptionStyle:
        """A font file resolved against the recipe's folder (bundled families stay names)."""
        from joypix_recipes.job.kinds.captions import BUNDLED_FONTS

        if style.font in BUNDLED_FONTS:
            return style
        path = absolute(self.recipe.directory_of(span) / Path(style.font).expanduser())
        if path.suffix.lower() not in (".ttf", ".otf"):
            message = f"font '{style.font}' is neither a .ttf/.otf file nor one of {', '.join(BUNDLED_FONTS)}"
            from difflib import get_close_matches  # only a mistake needs it

            close = get_close_matches(style.font.lower(), BUNDLED_FONTS, n=1, cutoff=0.6)
            message += f"; did you mean '{close[0]}'?" if close else ""
            self._problem_once(span, message)
        elif not is_file(path):
            self._problem_once(span, f"font file '{style.font}' not found (looked for {path})")
        return replace(style, font=str(path))

    def _cues(self, written: str, span: Span) -> tuple[Cue, ...]:
        path = absolute(self.recipe.directory_of(span) / Path(written).expanduser())
        if path not in self.cues and not is_file(path):
            self.cues[path] = ()
            self._problem_once(span, f"subtitles file '{written}' not found (looked for {path})")
        if path not in self.cues:
            from joypix_recipes.recipe.subtitles import read_cues  # srt and webvtt only for a recipe with subtitles

            try:
                self.cues[path] = read_cues(path)
            except ValueError as error:
                self.cues[path] = ()
                self._problem_once(span, f"subtitles '{written}': {error}")
        return self.cues[path]

    def _understood(self, text: str, written: StepValue, label: str) -> None:
        """A problem per phrase of a prompt the local renderer would not understand, at the phrase itself."""
        assert self.prompts is not None and isinstance(written, Template)
        templated = has_template_syntax(written.text)
        for phrase, nearest in self.prompts(text):
            known = ", ".join(f'"{each}"' for each in nearest[:3])
            hint = f" (nearest it knows: {known})" if known else ""
            message = f'the local backend does not understand "{phrase}"{hint}; reword it or set unknown_phrases: warn'
            line, token = _phrase_place(written.text, phrase)
            if templated:  # what a template renders to differs by input: name the input
                where = self.recipe.problem_at(written.span, f"{message} (input {label})", line, token)
                self.problems.append(str(where))
            else:
                self._problem_once(written.span, message, line, token)

    def _problem_once(self, span: Span, message: str, template_line: int = 1, token: str | None = None) -> None:
        """A problem of the recipe itself, said once however many jobs meet it."""
        line = str(self.recipe.problem_at(span, message, template_line, token))
        if line not in self.problems:
            self.problems.append(line)

    def _media_file(self, template: Template, kind: str, context: dict[str, Any], label: str) -> str:
        """A file beside the recipe, named by a template (or the music the renderer makes itself)."""
        from joypix_recipes.job.kinds.audio import BUILTIN_MUSIC

        rendered = self._text(template, context, label).strip()
        if not rendered or rendered == BUILTIN_MUSIC:
            return rendered
        path = absolute(self.recipe.directory_of(template.span) / Path(rendered).expanduser())
        if is_file(path):
            return str(path)
        if not has_template_syntax(template.text):  # one file every job shares: said once
            self._problem_once(template.span, f"{kind} file '{rendered}' not found (looked for {path})")
        elif path not in self.missing:  # a name that may differ by input: said for the first input it fails
            message = f"{kind} file '{rendered}' not found (looked for {path}; input {label})"
            self.problems.append(str(self.recipe.problem_at(template.span, message)))
        self.missing.add(path)  # the plan fails whole, so the line said once is enough
        return str(path)

    def _output(self, variant: Variant | None, context: dict[str, Any], label: str, suffix: str) -> Path | None:
        template = (
            (variant.output if variant else None) or self.recipe.output or _default_output(variant is not None, suffix)
        )
        try:
            relative = safe_output_path(render_output(template.text, context), suffix)
        except UnsafeNameValue as failure:
            if self.strict:
                self._fail(template, failure, label)
            else:
                self.rejected.append(f"{label}: cannot name its output ({failure.detail}); rename the file")
            return None
        except TemplateFailure as failure:
            self._fail(template, failure, label)
            return None
        return self.out / relative


def _phrase_place(text: str, phrase: str) -> tuple[int, str | None]:
    """The line of a template where ``phrase`` is written (the interpreter reads lower case), and its text as written."""
    at = text.lower().find(phrase.lower())
    if at < 0:
        first = phrase.split()[0] if phrase.split() else ""
        at = text.lower().find(first.lower()) if first else -1
        if at < 0:
            return 1, None
        phrase = first
    return text.count("\n", 0, at) + 1, text[at : at + len(phrase)]


def read_image_size(path: Path) -> tuple[int, int]:
    """Displayed (width, height) of an image from its header (EXIF rotation applied); LookupError if unreadable."""
    from joypix_recipes.job.image_info import opened_image, oriented_size  # Pillow only when there are inputs

    try:
        with opened_image(path) as image:
            return oriented_size(image)
    except Exception as error:  # noqa: BLE001 - any failure of a foreign decoder means "cannot read"
        raise LookupError(f"the image header of {path} cannot be read") from error


def _default_output(has_variants: bool, suffix: str = ".mp4") -> Template:
    text = f"{{{{ input.stem }}}}-{{{{ variant.name }}}}{suffix}" if has_variants else f"{{{{ input.stem }}}}{suffix}"
    return Template(text, "output", Span(1, 1, 1, 1))


def _clashes(recipe: Recipe, jobs: list[Job]) -> list[str]:
    """Two jobs writing one file (compared without case, as macOS and Windows do) is an error."""
    first: dict[str, Job] = {}
    problems = []
    where = str(recipe.problem_at(recipe.output.span, "")) if recipe.output else f"{recipe.file}: "
    for job in jobs:
        key = str(job.output).casefold()
        if key in first:
            other = first[key]
            # Rows of a table may share a picture: then only their place in the list tells them apart.
            example = "{{ input.name }}.mp4" if other.label != job.label else "{{ input.stem }}-{{ input.index }}.mp4"
            problems.append(
                f"{where}{other.label} and {job.label} would both write {job.output}; "
                f'make export.output tell them apart, for example "{example}"'
            )
        else:
            first[key] = job
    return problems


def _replaced_inputs(jobs: list[Job]) -> list[str]:
    """An output or a poster that is one of the inputs (an image, an audio file) would destroy it."""
    inputs: dict[str, Path] = {}
    for job in jobs:
        for path in _input_files(job):
            inputs[_same_place(path)] = path
            with contextlib.suppress(OSError):
                status = path.stat()
                inputs[f"{status.st_dev}:{status.st_ino}"] = path  # a hard link is the same file
    problems = []
    for job in jobs:
        for kind, path in (("output", job.output), ("poster", poster_path(job.output))):
            places = [_same_place(path)]
            with contextlib.suppress(OSError):
                status = path.stat()
                places.append(f"{status.st_dev}:{status.st_ino}")
            hit = next((inputs[place] for place in places if place in inputs), None)
            if hit is not None:
                problems.append(
                    f"the {kind} of {job.label} would replace the input {hit}; "
                    "give --out a folder of its own (or an output name that differs from every input)"
                )
    return problems


def _input_files(job: Job) -> list[Path]:
    files = list(job.input.files)
    for step in job.steps:
        if not is_kind(step.action, "audio"):
            continue
        from joypix_recipes.job.kinds.audio import BUILTIN_MUSIC, Audio

        assert isinstance(step.action, Audio)
        if step.action.file and step.action.file != BUILTIN_MUSIC:
            files.append(Path(step.action.file))
    return files


def _same_place(path: Path) -> str:
    """A comparison key: symlinks resolved, case folded (as macOS and Windows compare names)."""
    return os.path.realpath(path).casefold()
