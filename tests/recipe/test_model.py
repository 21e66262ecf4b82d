"""The typed recipe: defaults, values, the starter recipe, and a light import for `joypix validate`."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

from helpers.repo import REPO

from joypix_recipes.job.export import ExportSettings
from joypix_recipes.recipe import Recipe, init_recipe_text, load_recipe
from joypix_recipes.recipe.model import Template, export_settings
from joypix_recipes.recipe.schema import SCHEMA_PATH

from .conftest import WriteRecipe


def test_defaults_fill_everything_left_out(write_recipe: WriteRecipe) -> None:
    recipe = load_recipe(
        write_recipe("version: 1\nsteps:\n  - prompt: hi\n  - animate: {}\n  - fade: {}\n", "my-clip.yaml")
    )
    assert isinstance(recipe, Recipe)
    assert (recipe.name, recipe.backend, recipe.seed, recipe.unknown_phrases) == ("my-clip", "local", 0, "fail")
    assert recipe.export == ExportSettings("mp4", "high", "9:16", "1080p", 30)
    assert recipe.inputs is None and recipe.variants == () and recipe.output is None
    assert [step.name for step in recipe.steps] == ["prompt 1", "animate 2", "fade 3"]
    animate = recipe.steps[1].body
    assert animate == {"motion": "zoom-in", "duration": 5.0, "zoom": 1.25, "easing": "ease-in-out", "fit": "cover"}
    assert recipe.steps[2].body == {"in": 0.0, "out": 0.0}
    assert recipe.path.is_absolute() and recipe.file.endswith("my-clip.yaml")


def test_every_field_is_read(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        name: showcase
        description: demo
        backend: nemo
        seed: 42
        unknown_phrases: warn
        vars: {title: Hi, n: 3}
        inputs:
          - "*.jpg"
          - {path: hero.png, vars: {title: Hero}}
          - {url: "https://example.com/a.jpg"}
        steps:
          - name: intro
            when: input.index == 1
            prompt: "hello {{ vars.title }}"
          - animate: {motion: ken-burns, duration: "{{ vars.n }}", zoom: 1.5, easing: linear, fit: blur}
          - text: {content: "{{ vars.title }}", position: top, start: 1, end: 3, size: 90}
          - audio: {file: music.m4a, volume: "35%", fade_in: 1, fade_out: 2}
          - fade: {in: 0.5, out: "1.5"}
        export: {quality: low, aspect: "16:9", resolution: 720p, fps: 60, output: "{{ input.stem }}.mp4"}
        variants:
          - name: wide
            vars: {title: Wide}
            export: {aspect: 1:1, output: "w/{{ input.stem }}.mp4"}
        """
    )
    recipe = load_recipe(path)
    assert (recipe.name, recipe.backend, recipe.seed, recipe.unknown_phrases) == ("showcase", "nemo", 42, "warn")
    assert recipe.export == ExportSettings("mp4", "low", "16:9", "720p", 60)
    assert recipe.inputs is not None
    assert [(spec.path, spec.url, spec.vars) for spec in recipe.inputs] == [
        ("*.jpg", None, {}),
        ("hero.png", None, {"title": "Hero"}),
        (None, "https://example.com/a.jpg", {}),
    ]
    intro, animate, text, audio, fade = recipe.steps
    assert intro.name == "intro" and isinstance(intro.when, Template) and intro.when.role == "expression"
    prompt = intro.body["text"]
    assert isinstance(prompt, Template) and prompt.text == "hello {{ vars.title }}"
    assert isinstance(animate.body["duration"], Template)
    assert [animate.body[key] for key in ("motion", "zoom", "easing", "fit")] == ["ken-burns", 1.5, "linear", "blur"]
    assert [text.body[key] for key in ("position", "start", "end", "size")] == ["top", 1.0, 3.0, 90.0]
    assert [audio.body[key] for key in ("volume", "fade_in", "fade_out")] == [0.35, 1.0, 2.0]
    assert fade.body == {"in": 0.5, "out": 1.5}
    (variant,) = recipe.variants
    assert variant.name == "wide" and variant.export["aspect"] == "1:1" and variant.output is not None
    assert variant.output.text == "w/{{ input.stem }}.mp4" and variant.output.span.line == 24


def test_starter_recipe_points_at_the_installed_schema_by_a_relative_path_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "launch.yaml"
    text = init_recipe_text("launch", path=str(path))
    first = text.splitlines()[0]
    reference = first.removeprefix("# yaml-language-server: $schema=")
    assert reference != first and not Path(reference).is_absolute()
    assert (tmp_path / reference).resolve() == SCHEMA_PATH
    path.write_text(text)
    recipe = load_recipe(path)
    assert recipe.name == "launch" and len(recipe.steps) == 3


def test_starter_recipe_quotes_awkward_names(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(init_recipe_text("2024: sale #1.yaml"))
    assert load_recipe(path).name == "2024: sale #1"


def test_loading_a_recipe_imports_nothing_heavy() -> None:
    code = (
        "import sys; from pathlib import Path; from joypix_recipes.recipe import load_recipe; "
        "load_recipe(Path('recipes/product-showcase.yaml')); "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "joypix_recipes" in loaded
    assert not loaded & {"PIL", "av", "numpy", "cv2", "httpx", "jsonschema", "asyncio", "pillow_heif"}


def test_starter_recipe_name_cannot_smuggle_yaml(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(init_recipe_text("x\nversion: 2\u2028é"))
    recipe = load_recipe(path)
    assert recipe.name == "x version: 2 é"


def test_frame_rates_are_read_as_exact_fractions_however_they_are_written(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        steps: [{prompt: hi}]
        export: {fps: 29.97}
        variants:
          - {name: film, export: {fps: 24000/1001}}
          - {name: tv, export: {fps: "59.94"}}
          - {name: pal, export: {fps: 50}}
          - {name: preview, export: {fps: 12.5}}
          - {name: same}
        """
    )
    recipe = load_recipe(path)
    assert recipe.export.fps == Fraction(30000, 1001)
    rates = {variant.name: export_settings(recipe.export, variant.export).fps for variant in recipe.variants}
    assert rates == {
        "film": Fraction(24000, 1001),
        "tv": Fraction(60000, 1001),
        "pal": Fraction(50),
        "preview": Fraction(25, 2),
        "same": Fraction(30000, 1001),
    }
