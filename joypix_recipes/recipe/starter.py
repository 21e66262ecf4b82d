"""The commented starter recipe `joypix init` writes, pointing editors at the installed schema."""

from __future__ import annotations

import json
import re

from joypix_recipes.recipe.schema import SCHEMA_PATH

_STARTER = """\
# yaml-language-server: $schema={schema}
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

# The edits, in order. Each step is one of: prompt, animate, text, audio, fade, transition.
steps:
  - prompt: animate this image into a smooth 5-second video clip
  # Or say exactly what you want:
  # - animate: {{motion: ken-burns, duration: 5, zoom: 1.25, easing: ease-in-out}}
  - text:
      content: "{{{{ vars.title }}}}"
      position: bottom
      start: 0.5
  # - audio: {{file: music.m4a, volume: "35%", fade_out: 1}}
  # Between the images of a group (crossfade, dip-to-black, slide-left, wipe-right, zoom, none...):
  # - transition: {{kind: crossfade, duration: 0.5}}
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


def init_recipe_text(name: str) -> str:
    """A commented starter recipe named ``name`` whose first line points editors at the schema; it validates."""
    # Control characters would end the comment lines early and smuggle YAML into the file.
    base = (
        re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", re.sub(r"\.ya?ml$", "", name.strip())).strip()[:100] or "my-recipe"
    )
    quoted = base if re.fullmatch(r"[A-Za-z][A-Za-z0-9 _.-]*", base) else json.dumps(base)
    return _STARTER.format(schema=SCHEMA_PATH.as_posix(), file=f"{base}.yaml", name=quoted)
