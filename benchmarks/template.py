"""Template benchmark: what the render bounds cost, against Jinja2's own sandbox in the same run.

    python benchmarks/template.py [--renders 20000]

Renders typical recipe templates (a prompt with vars and filters, an output name, a loop over a short
list) through ``render_template`` (bounded: budget, guarded filters, checked operations) and through
a plain ImmutableSandboxedEnvironment, and prints microseconds per render and the ratio.
Target: under 2x the plain sandbox, and a few tens of microseconds per render.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from joypix_recipes.recipe.template.render import Namespace, render_template

TEMPLATES = {
    "prompt": "Slow zoom on {{ vars.product | upper }} by {{ vars.brand }}, title '{{ input.stem | replace('_', ' ') }}'",
    "output": "{{ vars.brand }}-{{ input.stem }}-{{ '%03d' | format(input.index) }}.mp4",
    "loop": "{% for tag in vars.tags %}#{{ tag }}{% if not loop.last %} {% endif %}{% endfor %}",
}


def _context() -> dict[str, object]:
    values = {"product": "mug", "brand": "Acme", "tags": ["coffee", "morning", "shop", "sale"]}
    return {
        "vars": Namespace("vars", values),
        "input": Namespace("input", {"stem": "blue_mug_2", "index": 7}),
        "variant": Namespace("variant", {}),
        "recipe": Namespace("recipe", {"name": "bench"}),
    }


def _per_render(render: object, renders: int) -> float:
    started = time.perf_counter()
    for _ in range(renders):
        render()  # type: ignore[operator]
    return (time.perf_counter() - started) / renders * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20_000)
    args = parser.parse_args()
    context = _context()
    plain = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    print(f"{args.renders} renders each")
    for name, text in TEMPLATES.items():
        compiled = plain.from_string(text)
        expected = compiled.render(context)
        assert render_template(text, context) == expected, (render_template(text, context), expected)
        baseline = _per_render(lambda: compiled.render(context), args.renders)  # noqa: B023 - used at once
        bounded = _per_render(lambda: render_template(text, context), args.renders)  # noqa: B023 - used at once
        print(f"{name:<7} plain sandbox {baseline:6.1f} us   bounded {bounded:6.1f} us   {bounded / baseline:4.2f}x")
    print("target: under 2x the plain sandbox")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
