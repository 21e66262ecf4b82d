"""Planning: recipe x inputs x variants -> Jobs, with inputs, templates, numbers, audio and outputs resolved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.images import png_header_only, write_image
from helpers.recipes import recipe_at
from helpers.repo import REPO

from joypix_recipes.errors import PlanError
from joypix_recipes.job.actions import BUILTIN_MUSIC, Animate, Audio, Prompt, Text
from joypix_recipes.job.model import Job
from joypix_recipes.recipe.plan import plan_jobs, read_image_size

HEADER_ONLY = (64, 48)
"""Planning reads image headers only: small photos keep these tests quick."""


def problem_lines(error: pytest.ExceptionInfo[PlanError]) -> list[str]:
    return str(error.value).splitlines()


def test_jobs_are_inputs_times_variants_in_order(tmp_path: Path) -> None:
    for name in ("b.jpg", "a.jpg", "c.png"):
        write_image(tmp_path / "photos" / name, HEADER_ONLY)
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        inputs: ["photos/*.jpg", photos/c.png]
        steps:
          - prompt: zoom in
        variants:
          - name: reels
          - name: feed
            export: {aspect: "1:1"}
        """,
    )
    jobs = plan_jobs(recipe).jobs
    assert [(job.input.name, job.input.index, job.variant) for job in jobs] == [
        ("a.jpg", 1, "reels"),
        ("a.jpg", 1, "feed"),
        ("b.jpg", 2, "reels"),
        ("b.jpg", 2, "feed"),
        ("c.png", 3, "reels"),
        ("c.png", 3, "feed"),
    ]
    assert [job.output.name for job in jobs[:2]] == ["a-reels.mp4", "a-feed.mp4"]
    assert [job.export.aspect for job in jobs[:2]] == ["9:16", "1:1"]
    assert all(
        job.output.parent == tmp_path / "out" and job.input.path and job.input.path.is_absolute() for job in jobs
    )


def test_vars_layer_recipe_then_input_then_variant_then_command_line(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        vars: {a: recipe, b: recipe, c: recipe, d: recipe}
        inputs: [{path: a.jpg, vars: {b: input, c: input, d: input}}]
        steps:
          - prompt: "{{ vars.a }} {{ vars.b }} {{ vars.c }} {{ vars.d }}"
        variants:
          - {name: v, vars: {c: variant, d: variant}}
        """,
    )
    (job,) = plan_jobs(recipe, var_overrides={"d": "cli"}).jobs
    assert job.steps[0].action == Prompt("recipe input variant cli")
    assert job.vars == {"a": "recipe", "b": "input", "c": "variant", "d": "cli"}


def test_recipe_inputs_are_relative_to_the_recipe_not_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_image(tmp_path / "r" / "img" / "x.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path / "r" if (tmp_path / "r").exists() else tmp_path,
        "version: 1\ninputs: [img/x.jpg]\nsteps:\n  - prompt: hi\n",
    )
    monkeypatch.chdir(tmp_path)
    (job,) = plan_jobs(recipe).jobs
    assert job.input.path == tmp_path / "r" / "img" / "x.jpg"
    assert job.output == tmp_path / "r" / "out" / "x.mp4"


def test_missing_inputs_are_errors_at_their_recipe_line(tmp_path: Path) -> None:
    write_image(tmp_path / "ok.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path, "version: 1\ninputs:\n  - ok.jpg\n  - gone.jpg\n  - 'none/*.png'\nsteps:\n  - prompt: hi\n"
    )
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe)
    assert problem_lines(caught) == [
        f"{recipe.file}:4:5: input 'gone.jpg' not found (looked in {tmp_path})",
        f"{recipe.file}:5:5: input 'none/*.png' matches no file (looked in {tmp_path})",
    ]
    assert caught.value.exit_code == 2


def test_command_line_inputs_replace_the_recipe_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_image(tmp_path / "single.jpg", HEADER_ONLY)
    write_image(tmp_path / "folder" / "b.png", HEADER_ONLY)
    write_image(tmp_path / "folder" / "a.webp", HEADER_ONLY)
    (tmp_path / "folder" / "notes.txt").write_text("not an image")
    (tmp_path / "folder" / "._b.png").write_bytes(b"macOS metadata, not an image")
    write_image(tmp_path / "globbed" / "g1.jpg", HEADER_ONLY)
    write_image(tmp_path / "globbed" / "deep" / "g2.jpg", HEADER_ONLY)
    recipe = recipe_at(tmp_path, "version: 1\ninputs: [nothing-here.jpg]\nsteps:\n  - prompt: hi\n")
    monkeypatch.chdir(tmp_path)
    jobs = plan_jobs(recipe, inputs=["single.jpg", "folder", "globbed/**/*.jpg"]).jobs
    assert [job.input.name for job in jobs] == ["single.jpg", "a.webp", "b.png", "g2.jpg", "g1.jpg"]
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe, inputs=["missing.jpg", "*.gif"])
    assert problem_lines(caught) == [
        "--input 'missing.jpg': no such file or folder",
        "--input '*.gif': matches no file",
    ]


def test_a_recipe_without_inputs_needs_input(tmp_path: Path) -> None:
    recipe = recipe_at(tmp_path, "version: 1\nsteps:\n  - prompt: hi\n")
    with pytest.raises(PlanError, match="no inputs; list images under inputs: or pass --input PATH"):
        plan_jobs(recipe)


def test_two_jobs_writing_one_output_are_found_before_anything_runs(tmp_path: Path) -> None:
    write_image(tmp_path / "photo.jpg", HEADER_ONLY)
    write_image(tmp_path / "photo.png", HEADER_ONLY)
    write_image(tmp_path / "PHOTO.webp", HEADER_ONLY)
    recipe = recipe_at(tmp_path, "version: 1\ninputs: ['photo.*', PHOTO.webp]\nsteps:\n  - prompt: hi\n")
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe)
    lines = problem_lines(caught)
    assert len(lines) == 2
    assert lines[0].startswith(
        f"{recipe.file}: photo.jpg and photo.png would both write {tmp_path / 'out' / 'photo.mp4'}"
    )
    assert "PHOTO.webp" in lines[1] and '"{{ input.name }}.mp4"' in lines[1]


def test_clash_from_a_custom_output_points_at_its_line(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    text = "version: 1\ninputs: [a.jpg]\nsteps:\n  - prompt: hi\nexport:\n  output: clip.mp4\nvariants:\n  - name: x\n  - name: y\n"
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe_at(tmp_path, text))
    assert problem_lines(caught)[0].startswith(
        f"{tmp_path / 'recipe.yaml'}:6:11: a.jpg [x] and a.jpg [y] would both write"
    )


def test_out_dir_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path,
        "version: 1\ninputs: [a.jpg]\nsteps:\n  - prompt: hi\nexport: {output: '{{ recipe.name }}/{{ input.stem }}.mp4'}\n",
    )
    monkeypatch.chdir(tmp_path)
    (job,) = plan_jobs(recipe, out_dir=Path("clips")).jobs
    assert job.output == tmp_path / "clips" / "recipe" / "a.mp4"


def test_when_skips_steps_per_job(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        inputs: [a.jpg]
        steps:
          - when: variant.name == 'wide'
            animate: {motion: pan-right}
          - when: false
            prompt: never
          - prompt: always
        variants: [{name: tall}, {name: wide}]
        """,
    )
    tall, wide = plan_jobs(recipe).jobs
    assert [step.name for step in tall.steps] == ["prompt 3"]
    assert [step.name for step in wide.steps] == ["animate 1", "prompt 3"]


def test_structured_steps_become_actions_with_rendered_numbers(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    (tmp_path / "sound").mkdir()
    (tmp_path / "sound" / "bed.m4a").write_bytes(b"not checked here")
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        vars: {seconds: 4, title: Hello, level: 40}
        inputs: [a.jpg]
        steps:
          - animate: {motion: ken-burns, duration: "{{ vars.seconds }}", zoom: "{{ 1 + 0.5 }}", fit: blur}
          - text: {content: "{{ vars.title }}!", start: 1, end: "{{ vars.seconds - 1 }}"}
          - audio: {file: sound/bed.m4a, volume: "{{ vars.level }}%"}
          - audio: {file: "builtin:ambient"}
        """,
    )
    (job,) = plan_jobs(recipe, backend="nemo").jobs
    actions = [step.action for step in job.steps]
    assert actions == [
        Animate("ken-burns", 4.0, 1.5, "ease-in-out", "blur"),
        Text("Hello!", "bottom", 1.0, 3.0, 72.0),
        Audio(str(tmp_path / "sound" / "bed.m4a"), 0.4, 0.0, 0.0),
        Audio(BUILTIN_MUSIC, 1.0, 0.0, 0.0),
    ]
    assert (job.backend, job.seed, job.unknown_phrases) == ("nemo", 0, "fail")


def test_numbers_that_render_wrong_are_errors_at_the_field_line(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    text = "version: 1\nvars: {d: 3}\ninputs: [a.jpg]\nsteps:\n  - animate:\n      duration: '{{ vars.d }}'\n"
    recipe = recipe_at(tmp_path, text)
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe, var_overrides={"d": "later"})
    assert problem_lines(caught) == [
        f"{recipe.file}:6:17: animate.duration renders to 'later', which is not a number (input a.jpg)"
    ]
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe, var_overrides={"d": "-2"})
    assert problem_lines(caught) == [f"{recipe.file}:6:17: animate.duration must be more than 0, not -2 (input a.jpg)"]


def test_text_must_end_after_it_starts(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    recipe = recipe_at(tmp_path, "version: 1\ninputs: [a.jpg]\nsteps:\n  - text: {content: hi, start: 3, end: 2}\n")
    with pytest.raises(PlanError, match=r"recipe.yaml:4:5: text end \(2\) must be after its start \(3\)"):
        plan_jobs(recipe)


def test_missing_audio_file_is_an_error_at_its_line_said_once_for_every_job(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    write_image(tmp_path / "b.jpg", HEADER_ONLY)
    recipe = recipe_at(tmp_path, "version: 1\ninputs: [a.jpg, b.jpg]\nsteps:\n  - audio:\n      file: music/none.m4a\n")
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe)
    expected = f"{recipe.file}:5:13: audio file 'music/none.m4a' not found (looked for {tmp_path / 'music' / 'none.m4a'})"
    assert problem_lines(caught) == [expected]


def test_a_templated_audio_file_every_input_misses_alike_is_named_once(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    write_image(tmp_path / "b.jpg", HEADER_ONLY)
    text = 'version: 1\ninputs: [a.jpg, b.jpg]\nvars: {music: none.m4a}\nsteps:\n  - audio: {file: "{{ vars.music }}"}\n'
    recipe = recipe_at(tmp_path, text)
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe)
    assert problem_lines(caught) == [
        f"{recipe.file}:5:19: audio file 'none.m4a' not found (looked for {tmp_path / 'none.m4a'}; input a.jpg)"
    ]


def test_var_defined_for_one_input_only_fails_for_the_others_at_the_template(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    write_image(tmp_path / "b.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        inputs:
          - {path: a.jpg, vars: {title: Hi}}
          - b.jpg
        steps:
          - prompt: |
              zoom in
              title "{{ vars.title }}"
        """,
    )
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe)
    assert problem_lines(caught) == [
        f"{recipe.file}:8:22: vars.title is not defined; add it under vars: or pass --var title=VALUE (input b.jpg)"
    ]


def test_output_values_with_separators_are_refused(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path,
        "version: 1\nvars: {dir: x}\ninputs: [a.jpg]\nsteps:\n  - prompt: hi\nexport:\n  output: '{{ vars.dir }}.mp4'\n",
    )
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe, var_overrides={"dir": "../../etc"})
    assert problem_lines(caught) == [
        f"{recipe.file}:7:11: a value in the output name contains a path separator: '../../etc' (input a.jpg)"
    ]


def test_an_input_whose_name_spoils_its_output_is_rejected_alone_unless_the_plan_is_strict(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    write_image(tmp_path / "odd\\name.jpg", HEADER_ONLY)
    recipe = recipe_at(tmp_path, "version: 1\ninputs: ['*.jpg']\nsteps:\n  - prompt: hi\nexport:\n  output: '{{ input.name }}.mp4'\n")

    plan = plan_jobs(recipe, strict=False)

    assert [job.input.name for job in plan.jobs] == ["a.jpg"]
    assert len(plan.rejected) == 1 and plan.rejected[0].startswith("odd\\name.jpg: cannot name its output")
    with pytest.raises(PlanError, match="path separator"):
        plan_jobs(recipe)


def test_width_and_height_come_from_the_header_with_exif_rotation(tmp_path: Path) -> None:
    write_image(tmp_path / "wide.jpg", (80, 40))
    write_image(tmp_path / "rotated.jpg", (80, 40), orientation=6)
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        inputs: [wide.jpg, rotated.jpg]
        steps:
          - when: input.width > input.height
            animate: {fit: blur}
          - prompt: "{{ input.width }}x{{ input.height }}"
        """,
    )
    wide, rotated = plan_jobs(recipe).jobs
    assert [step.action for step in wide.steps] == [Animate(fit="blur"), Prompt("80x40")]
    assert [step.action for step in rotated.steps] == [Prompt("40x80")]
    assert read_image_size(tmp_path / "rotated.jpg") == (40, 80)


def test_unreadable_header_is_a_plan_error_naming_the_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    recipe = recipe_at(tmp_path, "version: 1\ninputs: [broken.jpg]\nsteps:\n  - prompt: '{{ input.width }}'\n")
    with pytest.raises(PlanError) as caught:
        plan_jobs(recipe)
    assert problem_lines(caught) == [
        f"{recipe.file}:4:23: input.width is unknown: the image header of {broken} cannot be read (input broken.jpg)"
    ]


def test_header_is_read_only_when_a_template_uses_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    (tmp_path / "r.yaml").write_text("version: 1\ninputs: [broken.jpg]\nsteps:\n  - prompt: '{{ input.stem }}'\n")
    code = (
        "import sys; from pathlib import Path; from joypix_recipes.recipe import load_recipe; "
        "from joypix_recipes.recipe.plan import plan_jobs; "
        f"jobs = plan_jobs(load_recipe(Path({str(tmp_path / 'r.yaml')!r}))).jobs; "
        "print(jobs[0].steps[0].action.text, 'PIL' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["broken", "False"]


def test_url_inputs_are_planned_without_touching_the_network(tmp_path: Path) -> None:
    recipe = recipe_at(
        tmp_path,
        "version: 1\ninputs: [{url: 'https://cdn.example.com/shop/red%20shoe.jpg?w=1'}]\nsteps:\n  - prompt: '{{ input.stem }}'\n",
    )
    (job,) = plan_jobs(recipe).jobs
    assert (job.input.url, job.input.name, job.input.path) == (
        "https://cdn.example.com/shop/red%20shoe.jpg?w=1",
        "red shoe.jpg",
        None,
    )
    assert job.steps[0].action == Prompt("red shoe") and job.output.name == "red shoe.mp4"


def test_jobs_round_trip_through_json(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", HEADER_ONLY)
    recipe = recipe_at(
        tmp_path,
        "version: 1\nseed: 9\nunknown_phrases: warn\ninputs: [a.jpg]\nsteps:\n  - prompt: hi\n  - fade: {in: 1}\n",
    )
    (job,) = plan_jobs(recipe).jobs
    assert Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job
    assert (job.seed, job.unknown_phrases, job.recipe_path) == (9, "warn", tmp_path / "recipe.yaml")


def test_header_of_a_200_megapixel_photo_is_read_past_the_bomb_limit(tmp_path: Path) -> None:
    huge = png_header_only(tmp_path / "huge.png", 16_320, 12_240)
    assert read_image_size(huge) == (16_320, 12_240)


def test_a_symlinked_photo_keeps_its_own_name(tmp_path: Path) -> None:
    target = write_image(tmp_path / "raw" / "IMG_1234.jpg", HEADER_ONLY)
    (tmp_path / "hero.jpg").symlink_to(target)
    recipe = recipe_at(tmp_path, "version: 1\ninputs: [hero.jpg]\nsteps:\n  - prompt: hi\n")
    (job,) = plan_jobs(recipe).jobs
    assert (job.input.path, job.output.name) == (tmp_path / "hero.jpg", "hero.mp4")


def test_unreadable_or_impossible_inputs_are_plan_errors(tmp_path: Path) -> None:
    recipe = recipe_at(
        tmp_path, f"version: 1\ninputs: ['{'x' * 5000}.jpg']\nsteps:\n  - audio: {{file: '{'y' * 5000}.m4a'}}\n"
    )
    with pytest.raises(PlanError):
        plan_jobs(recipe)
    with pytest.raises(PlanError, match="--input"):
        plan_jobs(recipe, inputs=["z" * 5000])


def test_globs_and_folders_never_take_files_from_the_output_folder(tmp_path: Path) -> None:
    write_image(tmp_path / "shoot" / "a.jpg", HEADER_ONLY)
    write_image(tmp_path / "shoot" / "out" / "a.jpg", HEADER_ONLY)  # a poster from an earlier run
    recipe = recipe_at(tmp_path / "shoot", "version: 1\ninputs: ['**/*.jpg']\nsteps:\n  - prompt: hi\n")
    assert [job.input.path for job in plan_jobs(recipe).jobs] == [tmp_path / "shoot" / "a.jpg"]
    with pytest.raises(PlanError, match="out': matches only files in the output folder"):
        plan_jobs(recipe, inputs=[str(tmp_path / "shoot" / "out")])
