"""One set of checks: whatever `run` refuses before it renders or spends, `validate` refuses too, with the same
exit code and the same first message at the same FILE:LINE:COL, and the message says how to fix the mistake.

Every broken recipe runs through the command line twice (`validate`, then `run --dry-run`, which plans and
checks everything a run checks before it renders); the runs go side by side so the table stays quick.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.runs import run_joypix

SMALL = 'export: {aspect: "1:1", resolution: 480p, fps: 10, quality: low}\n'
TWO = "version: 1\ninputs: [a.jpg, b.jpg]\n"


@dataclass(frozen=True)
class Case:
    """A broken (or, for contrast, sound) recipe, what both commands must say first, and the exit code."""

    name: str
    recipe: str
    says: str
    exit_code: int = 2
    args: tuple[str, ...] = ()
    files: Callable[[Path], None] | None = None
    real_run: bool = False  # checked only by a real run today (the local backend's reading of prompts)


def _csv(text: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / "t.csv").write_text(text, encoding="utf-8")

    return write


def _brand(text: str, *more: tuple[str, str]) -> Callable[[Path], None]:
    """A brand file at brand/brand.yaml (and any more files, by path), for recipes that extend it."""

    def write(folder: Path) -> None:
        for name, body in (("brand/brand.yaml", text), *more):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(body, encoding="utf-8")

    return write


EXTENDS = TWO + "extends: brand/brand.yaml\n"


def _empty_folder(folder: Path) -> None:
    (folder / "empty").mkdir()
    (folder / "empty" / "notes.txt").write_text("no pictures here", encoding="utf-8")


CASES = (
    # what the inputs name
    Case("input-missing", "version: 1\ninputs: [photos/missing.jpg]\nsteps:\n  - fade: {in: 1}\n",
         "r.yaml:2:10: input 'photos/missing.jpg' not found"),
    Case("input-glob-matches-nothing", 'version: 1\ninputs: ["photos/*.png"]\nsteps:\n  - fade: {in: 1}\n',
         "input 'photos/*.png' matches no file"),
    Case("input-folder-without-images", "version: 1\ninputs: [empty]\nsteps:\n  - fade: {in: 1}\n",
         "input 'empty' holds no images", files=_empty_folder),
    Case("group-image-missing", "version: 1\ninputs:\n  - images: [a.jpg, gone.jpg]\nsteps:\n  - fade: {in: 1}\n",
         "input 'gone.jpg' not found"),
    Case("table-row-picture-missing", "version: 1\ninputs:\n  - table: t.csv\nsteps:\n  - fade: {in: 1}\n",
         "t.csv line 3: image 'gone.jpg' not found", exit_code=1, files=_csv("image,caption\na.jpg,x\ngone.jpg,y\n")),
    Case("table-quote-never-closed", "version: 1\ninputs:\n  - table: t.csv\nsteps:\n  - fade: {in: 1}\n",
         "r.yaml:3:12:", files=_csv('image,caption\na.jpg,"open\nb.jpg,ok\n')),
    # media files and fonts
    Case("audio-missing-said-once", TWO + "steps:\n  - audio: {file: music.mp3}\n",
         "r.yaml:4:19: audio file 'music.mp3' not found"),
    Case("audio-missing-per-input", TWO + 'steps:\n  - audio: {file: "{{ input.stem }}.mp3"}\n',
         "audio file 'a.mp3' not found"),
    Case("subtitles-missing", TWO + "steps:\n  - subtitles: subs.srt\n", "subtitles file 'subs.srt' not found"),
    Case("font-file-missing", TWO + "steps:\n  - text: {content: hi, font: fonts/Brand.ttf}\n",
         "font file 'fonts/Brand.ttf' not found"),
    Case("overlay-image-missing", TWO + "steps:\n  - overlay: {image: logo.png, position: top-left}\n",
         "r.yaml:4:22: overlay file 'logo.png' not found"),
    Case("overlay-image-missing-in-brand", EXTENDS,
         "brand/brand.yaml:3:22: overlay file 'logo.png' not found",
         files=_brand("version: 1\nsteps:\n  - overlay: {image: logo.png, position: top-left}\n")),
    # brand files (extends)
    Case("brand-file-missing", EXTENDS + "steps:\n  - fade: {in: 1}\n", "r.yaml:3:10: brand file 'brand/brand.yaml' not found"),
    Case("brand-cycle", EXTENDS, "brand/base.yaml:2:10: extends makes a loop (r.yaml -> brand/brand.yaml -> brand/base.yaml -> brand/brand.yaml)",
         files=_brand("version: 1\nsteps:\n  - fade: {in: 1}\nextends: base.yaml\n",
                      ("brand/base.yaml", "version: 1\nextends: brand.yaml\n"))),
    Case("brand-bad-value", EXTENDS + "steps+:\n  - fade: {in: 1}\n", "brand/brand.yaml:3:25: animate.duration must be",
         files=_brand("version: 1\nsteps:\n  - animate: {duration: -2}\n")),
    Case("brand-sound", EXTENDS + "steps+:\n  - fade: {in: 0.2}\n", "", 0,
         files=_brand("version: 1\nsteps:\n  - animate: {duration: 1}\n" + SMALL)),
    Case("font-unknown-name", TWO + "steps:\n  - text: {content: hi, font: comic}\n",
         "font 'comic' is neither a .ttf/.otf file nor one of default"),
    Case("font-misspelt", TWO + "steps:\n  - text: {content: hi, font: serif-bld}\n", "did you mean 'serif-bold'?"),
    # --var values, typed as run types them
    Case("var-not-a-number", TWO + 'steps:\n  - animate: {duration: "{{ vars.seconds }}"}\nvars: {seconds: 3}\n',
         "animate.duration", args=("--var", "seconds=abc")),
    Case("var-out-of-range", TWO + 'steps:\n  - animate: {duration: "{{ vars.seconds }}"}\nvars: {seconds: 3}\n',
         "animate.duration must be", args=("--var", "seconds=-4")),
    Case("var-without-value", TWO + "steps:\n  - fade: {in: 1}\n", "--var expects KEY=VALUE", args=("--var", "seconds")),
    Case("var-never-given", TWO + 'steps:\n  - prompt: "title {{ vars.brand }}"\n', "r.yaml:4:28: undefined variable vars.brand"),
    Case("var-given", TWO + 'steps:\n  - text: {content: "{{ vars.brand }}"}\n' + SMALL, "", 0, ("--var", "brand=Acme")),
    # prompts the local backend cannot read (the cloud backend reads them itself)
    Case("prompt-unknown-phrase", TWO + 'steps:\n  - prompt: "zoom in and make it sparkle"\n' + SMALL,
         'r.yaml:4:34: the local backend does not understand "sparkle"', real_run=True),
    Case("prompt-unknown-phrase-second-line", TWO + 'steps:\n  - prompt: "zoom in,\n      then glitter"\n' + SMALL,
         'r.yaml:5:12: the local backend does not understand "glitter"', real_run=True),
    Case("prompt-unknown-phrase-on-nemo", TWO + "backend: nemo\nsteps:\n  - prompt: zoom in and sparkle\n", "", 0),
    Case("prompt-unknown-phrase-warned", TWO + "unknown_phrases: warn\nsteps:\n  - prompt: zoom in and sparkle\n", "", 0),
    # YAML that reads otherwise than meant
    Case("template-unquoted", TWO + "steps:\n  - text:\n      content: {{ vars.brand }}\nvars: {brand: A}\n",
         'r.yaml:5:16: put the template in quotes, as in content: "{{ vars.brand }}"'),
    Case("template-unquoted-with-text", TWO + "steps:\n  - text:\n      content: {{ vars.brand }} sale\nvars: {brand: A}\n",
         'r.yaml:5:16: put the template in quotes, as in content: "{{ vars.brand }} sale"'),
    Case("template-unquoted-prompt", TWO + "steps:\n  - prompt: {{ vars.brand }}\nvars: {brand: A}\n",
         "r.yaml:4:13: put the template in quotes"),
    Case("key-indented-between-blocks", TWO + "steps:\n  - animate:\n      motion: zoom-in\n     duration: 3\n",
         "r.yaml:6:6: YAML syntax: this line is not lined up with the keys above it"),
    Case("list-item-misaligned", TWO + "steps:\n  - fade: {in: 1}\n   - fade: {out: 1}\n",
         "r.yaml:5:4: YAML syntax: this list item is not lined up with the items above it"),
    Case("brace-never-closed", TWO + "steps:\n  - animate: {motion: zoom-in\n",
         "r.yaml:4:14: YAML syntax: a '{' opened here is never closed"),
    Case("quote-never-closed", TWO + 'steps:\n  - prompt: "zoom in\n', "r.yaml:4:13: YAML syntax: a quote opened here is never closed"),
    Case("tab-indent", TWO + "steps:\n\t- fade: {in: 1}\n", "a tab character; YAML is indented with spaces"),
    Case("step-field-indented-too-little", TWO + "steps:\n  - animate:\n      motion: zoom-in\n    duration: 3\n",
         "r.yaml:6:5: 'duration' belongs to animate above it; indent it further, under animate:"),
    Case("step-body-left-empty", TWO + "steps:\n  - animate:\n    motion: zoom-in\n",
         "r.yaml:5:5: 'motion' belongs to animate above it"),
    # values
    Case("colour-misspelt", TWO + "steps:\n  - text: {content: hi, color: goldd}\n", "did you mean 'gold'?"),
    Case("stroke-colour-misspelt", TWO + "steps:\n  - text: {content: hi, stroke: {width: 2, color: blakc}}\n",
         "did you mean 'black'?"),
    Case("key-misspelt", TWO + "steps:\n  - animate: {motoin: zoom-in}\n", "did you mean 'motion'?"),
    Case("number-out-of-range", TWO + "steps:\n  - animate: {duration: -1}\n", "animate.duration must be"),
    Case("outputs-clash", TWO + "steps:\n  - fade: {in: 1}\nexport: {output: clip.mp4}\n", "would both write"),
    Case("needs-newer-joypix", 'version: 1\nrequires: ">=99"\ninputs: [a.jpg]\nsteps:\n  - fade: {in: 1}\n',
         "this recipe needs joypix 99 or newer"),
    Case("sound", TWO + "steps:\n  - prompt: zoom in for 2 seconds\n" + SMALL, "", 0),
)  # fmt: skip

_PLACE = re.compile(r"(?:^|\s)(\S+:\d+:\d+: .*)$")


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    first: str
    output: str


def _verdict(result: subprocess.CompletedProcess[str]) -> Verdict:
    """The exit code and the first thing said wrong, without what each command puts before it."""
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("warning:")]
    first = lines[0] if lines else ""
    for prefix in ("error: ", "failed   "):
        first = first.removeprefix(prefix)
    first = re.sub(r"^r\.yaml: cannot run ", "", first)
    return Verdict(result.returncode, first.strip(), result.stdout + result.stderr)


def _both(case: Case, folder: Path) -> tuple[Verdict, Verdict]:
    folder.mkdir()
    for name in ("a.jpg", "b.jpg"):
        write_image(folder / name, (24, 24))
    if case.files is not None:
        case.files(folder)
    (folder / "r.yaml").write_text(case.recipe, encoding="utf-8")
    validated = run_joypix(["validate", *case.args, "r.yaml"], folder, timeout=60)
    run = ["run", "r.yaml", *case.args, "-q"] + ([] if case.real_run else ["--dry-run"])
    ran = run_joypix(run, folder, timeout=60)
    return _verdict(validated), _verdict(ran)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Verdict, Verdict]]:
    root = tmp_path_factory.mktemp("verdicts")
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {case.name: pool.submit(_both, case, root / case.name) for case in CASES}
        return {name: future.result() for name, future in futures.items()}


def test_the_table_covers_every_kind_of_refusal() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.name) for case in CASES]
)
def test_validate_and_run_give_the_same_verdict_and_first_message(
    case: Case, verdicts: dict[str, tuple[Verdict, Verdict]]
) -> None:
    validated, ran = verdicts[case.name]

    assert "Traceback" not in validated.output + ran.output
    assert validated.exit_code == case.exit_code, validated.output
    assert ran.exit_code == case.exit_code, ran.output
    assert validated.first == ran.first, (validated.output, ran.output)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_validate_says_first_what_is_wrong_and_where(case: Case, verdicts: dict[str, tuple[Verdict, Verdict]]) -> None:
    validated = verdicts[case.name][0]

    assert validated.exit_code == case.exit_code, validated.output
    assert case.says in validated.first, validated.output
    assert bool(validated.first) == bool(case.exit_code), validated.output


@pytest.mark.parametrize("case", [case for case in CASES if case.exit_code != 0], ids=lambda case: case.name)
def test_each_message_is_one_short_line_that_names_no_job_twice(
    case: Case, verdicts: dict[str, tuple[Verdict, Verdict]]
) -> None:
    first = verdicts[case.name][0].first

    assert len(first) < 400, first
    assert "YAML syntax: did not find" not in first and "it understands" not in first
    assert first.count("a.jpg") <= 1, first
