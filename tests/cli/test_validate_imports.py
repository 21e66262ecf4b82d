"""`joypix validate` loads only what checking a recipe needs: never the renderer, the HTTP client, numpy,
the render farm; Jinja2 only for a recipe that has templates; the step kinds the recipe (and its prompts) use;
difflib only to suggest a name for a mistake; and --set's module only when --set is given (editors and hooks
run it on every save)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.repo import REPO

NEVER = ("joypix_recipes.render", "av", "numpy", "cv2", "httpx", "joypix_recipes.api", "dramatiq", "redis")
"""Modules (and their submodules) validate never needs."""
TEMPLATES = "jinja2"
OVERRIDES = "joypix_recipes.recipe.overrides"
SUGGESTIONS = "difflib"
"""Loaded only to name the nearest phrase, var, filter or key to a mistake: a valid recipe never needs it."""

_PROGRAM = """
import json, sys
from joypix_recipes.cli.main import main
code = main(["validate", *sys.argv[1:]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _validated(recipe: Path) -> set[str]:
    """The modules a fresh interpreter holds after validating ``recipe`` as `joypix validate` does."""
    done = subprocess.run([sys.executable, "-c", _PROGRAM, str(recipe)], cwd=recipe.parent, capture_output=True,
                          text=True, timeout=60, env={"PYTHONPATH": str(REPO), "PATH": ""})  # fmt: skip
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0, done.stderr
    return set(result["modules"])


def _loaded(modules: set[str], name: str) -> bool:
    return any(module == name or module.startswith(name + ".") for module in modules)


def _template_free(tmp_path: Path) -> Path:
    write_image(tmp_path / "a.jpg", (64, 48))
    recipe = tmp_path / "plain.yaml"
    recipe.write_text(
        "version: 1\nname: plain\ninputs: [a.jpg]\nsteps:\n"
        "  - animate: {motion: zoom-in, duration: 2}\n  - text: {content: Hello, position: bottom}\n"
        "  - fade: {in: 0.2, out: 0.2}\n"
        "variants:\n  - {name: square, export: {aspect: '1:1'}}\n  - {name: tall, export: {preset: reels}}\n",
        encoding="utf-8",
    )
    return recipe


@pytest.mark.parametrize("which", ["quickstart", "written"])
def test_a_recipe_without_templates_validates_without_renderer_client_farm_or_jinja2(
    which: str, tmp_path: Path
) -> None:
    recipe = REPO / "recipes" / "quickstart.yaml" if which == "quickstart" else _template_free(tmp_path)
    assert "{{" not in recipe.read_text(encoding="utf-8")
    modules = _validated(recipe)
    assert "joypix_recipes.recipe.plan" in modules  # it did plan: the check is not vacuous
    assert [name for name in (*NEVER, TEMPLATES, SUGGESTIONS) if _loaded(modules, name)] == []


def _kinds(modules: set[str]) -> set[str]:
    prefix = "joypix_recipes.job.kinds."
    return {name.removeprefix(prefix) for name in modules if name.startswith(prefix)}


def test_a_prompt_loads_only_the_step_kinds_it_asks_for() -> None:
    # quickstart's prompt asks for an animation (and a fade step follows): no music, reframing or transition.
    modules = _validated(REPO / "recipes" / "quickstart.yaml")
    assert "joypix_recipes.timeline.interpret.reading" in modules  # its prompt was read
    assert _kinds(modules) == {"prompt", "animate", "fade", "kind", "registry", "wording"}


def test_a_recipe_loads_only_the_step_kinds_it_uses(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    recipe = tmp_path / "fades.yaml"
    recipe.write_text("version: 1\ninputs: [a.jpg]\nsteps:\n  - fade: {in: 0.2, out: 0.2}\n", encoding="utf-8")
    modules = _validated(recipe)
    assert "joypix_recipes.recipe.plan" in modules
    assert _kinds(modules) == {"fade", "kind", "registry", "wording"}
    assert not _loaded(modules, "joypix_recipes.job.actions")
    assert not _loaded(modules, OVERRIDES)


@pytest.mark.parametrize("name", ["product-showcase", "catalogue", "portrait-title-music", "hot-folder"])
def test_a_recipe_with_templates_loads_jinja2_and_still_nothing_else(name: str) -> None:
    recipe = REPO / "recipes" / f"{name}.yaml"
    assert "{{" in recipe.read_text(encoding="utf-8")
    modules = _validated(recipe)
    assert "joypix_recipes.recipe.plan" in modules
    assert _loaded(modules, TEMPLATES)
    assert [name for name in (*NEVER, SUGGESTIONS) if _loaded(modules, name)] == []


def test_a_recipe_with_a_filter_loads_jinja2_and_still_nothing_else(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    recipe = tmp_path / "loud.yaml"
    recipe.write_text(
        "version: 1\nvars: {title: hello}\ninputs: [a.jpg]\nsteps:\n  - text: {content: '{{ vars.title | upper }}'}\n",
        encoding="utf-8",
    )
    modules = _validated(recipe)
    assert _loaded(modules, TEMPLATES)
    assert [name for name in (*NEVER, SUGGESTIONS) if _loaded(modules, name)] == []
