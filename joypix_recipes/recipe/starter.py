"""The commented starter recipe `joypix init` writes, or a copy of an example recipe, pointing editors at the schema."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from joypix_recipes.job.kinds.registry import RECIPE_KINDS
from joypix_recipes.recipe.schema import SCHEMA_PATH

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "recipes"
"""The example recipes of a source checkout (an editable install); a wheel ships none."""

_MODELINE = "# yaml-language-server: $schema="

_STARTER = """\
{modeline}
# A joypix recipe. Check it:        joypix validate {file}
#                  See the jobs:    joypix run {file} --dry-run
#                  Make the clips:  joypix run {file}
version: 1
name: {name}
description: Short animated clips from still photos

# The oldest joypix this recipe needs; an older one asks to upgrade instead of misreading it.
requires: ">=0.3"

# Values for templates, used as {{{{ vars.NAME }}}}. Inputs, variants and --var NAME=VALUE override them.
vars:
  title: Hello there

# Images to use, relative to this file. Leave this out to pass --input or to use `joypix watch`.
inputs:
  - "photos/*.jpg"
  # Several images as one clip (each glob sorted, in this order):
  # - images: [look/01.jpg, "look/*.jpg"]

# The edits, in order. Each step is one of: {kinds}.
steps:
  - prompt: animate this image into a smooth 5-second video clip
  # Or say exactly what you want:
  # - animate: {{motion: ken-burns, duration: 5, zoom: 1.25, easing: ease-in-out}}
  - text:
      content: "{{{{ vars.title }}}}"
      position: bottom
      start: 0.5
  # Timed captions from a .srt or .vtt file beside this recipe:
  # - subtitles: captions.srt
  # - audio: {{file: music.m4a, volume: "35%", fade_out: 1}}
  # Between the images of a group (crossfade, dip-to-black, slide-left, wipe-right, zoom, none...):
  # - transition: {{kind: crossfade, duration: 0.5}}
  # A logo in a corner (a PNG with transparency), 15% of the frame wide:
  # - overlay: {{image: logo.png, position: top-right, width: "15%", opacity: "85%"}}
  - fade: {{in: 0.5, out: 0.5}}

export:
  aspect: "9:16"        # 9:16, 16:9, 1:1 or 4:5
  resolution: 1080p     # 1080p, 720p or 480p (the short side)
  fps: 30               # 1 to 120: 24, 25, 30, 50, 60, or NTSC 23.976, 29.97, 59.94
  quality: high
  output: "{{{{ input.stem }}}}.mp4"

# One clip per variant for every input:
# variants:
#   - name: reels
#     export: {{aspect: "9:16"}}
#   - name: youtube
#     export: {{aspect: "16:9"}}
"""


def step_kinds() -> tuple[str, ...]:
    """The step keywords a recipe may use, in the order recipes document them."""
    return tuple(kind.name for kind in RECIPE_KINDS)


def schema_reference(recipe: Path) -> str:
    """Where the schema is, relative to ``recipe``'s folder, so the comment still works once the recipe is committed.

    A repository's own ``schemas/recipe.schema.json`` (in the recipe's folder or above it) wins over the installed copy.
    """
    folder = Path(os.path.abspath(recipe)).parent
    schema = next(
        (found for found in (p / "schemas" / "recipe.schema.json" for p in (folder, *folder.parents)) if _is_ours(found)),
        SCHEMA_PATH,
    )
    try:
        return Path(os.path.relpath(schema, folder)).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        return schema.as_uri()


def _is_ours(path: Path) -> bool:
    """Whether ``path`` is a joypix recipe schema (another project's schemas/ may hold a file of the same name)."""
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("$id") == _schema_id())
    except (OSError, ValueError, AttributeError):
        return False


def _schema_id() -> object:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8")).get("$id")


def example_names() -> tuple[str, ...]:
    """The example recipes ``joypix init --template`` can start from, by name (file name without .yaml)."""
    if not EXAMPLES.is_dir():
        return ()
    return tuple(sorted(path.stem for path in EXAMPLES.glob("*.yaml")))


def _display_name(name: str) -> tuple[str, str]:
    """The recipe name cleaned for a one-line comment, and as it is written after ``name:``."""
    # Control characters would end the comment lines early and smuggle YAML into the file.
    base = (
        re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", re.sub(r"\.ya?ml$", "", name.strip())).strip()[:100] or "my-recipe"
    )
    quoted = base if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _.-]*", base) else json.dumps(base)
    return base, quoted


def _shown(path: str) -> str:
    """A path as typed in the header's commands: shell-quoted, control characters made spaces."""
    return shlex.quote(re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", path))


def init_recipe_text(name: str, *, path: str | None = None, schema: str | None = None) -> str:
    """A commented starter recipe named ``name``, to be written at ``path``; it validates once its photos exist.

    The first line points editors at ``schema`` (by default found from ``path``); the header's commands name ``path``.
    """
    base, quoted = _display_name(name)
    where = path or f"{base}.yaml"
    return _STARTER.format(
        modeline=_MODELINE + (schema or schema_reference(Path(where))),
        file=_shown(where),
        name=quoted,
        kinds=", ".join(step_kinds()),
    )


def template_recipe_text(template: str, name: str, *, path: str, schema: str | None = None) -> str:
    """The example recipe ``template`` renamed ``name``, to be written at ``path``: its schema comment points at
    ``schema`` (by default found from ``path``), and its header's commands name ``path`` instead of the example.
    """
    _, quoted = _display_name(name)
    lines = (EXAMPLES / f"{template}.yaml").read_text(encoding="utf-8").splitlines()
    modeline = _MODELINE + (schema or schema_reference(Path(path)))
    if lines and lines[0].startswith(_MODELINE):
        lines = lines[1:]
    out_folder = Path(path).parent.as_posix()
    header = True
    result = [modeline]
    for line in lines:
        if header and line.startswith("#"):
            line = line.replace(f"recipes/{template}.yaml", _shown(path))
            line = line.replace("recipes/out/", "out/" if out_folder == "." else f"{out_folder}/out/")
        else:
            if header:
                result.append(f"# Started from the example {template}: its files (inputs, music...) are relative to this file.")
            header = False
            if re.match(r"name:\s", line):
                line = f"name: {quoted}"
        result.append(line)
    return "\n".join(result) + "\n"
