"""A mistake is said once, at its place, in words that say how to fix it (not in the parser's words)."""

from __future__ import annotations

import pytest

from .conftest import WriteRecipe, problems_of

HEAD = "version: 1\nsteps:\n"


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            "  - text:\n      content: {{ vars.brand }}\nvars: {brand: A}\n",
            (4, 16, 'put the template in quotes, as in content: "{{ vars.brand }}" (without them YAML reads {{ ... }} as a mapping)'),
        ),
        (
            "  - text: {content: {{ vars.brand }}}\nvars: {brand: A}\n",
            (3, 21, 'put the template in quotes, as in content: "{{ vars.brand }}" (without them YAML reads {{ ... }} as a mapping)'),
        ),
        (
            "  - prompt: {{ vars.brand }} sale\nvars: {brand: A}\n",
            (3, 13, 'put the template in quotes, as in prompt: "{{ vars.brand }} sale" (without them YAML reads {{ ... }} as a mapping)'),
        ),
        (
            "  - animate:\n      motion: zoom-in\n    duration: 3\n",
            (5, 5, "'duration' belongs to animate above it; indent it further, under animate:"),
        ),
        (
            "  - animate:\n    motion: zoom-in\n",
            (4, 5, "'motion' belongs to animate above it; indent it further, under animate:"),
        ),
        (
            "  - text: {content: hi, box: {color: whitte}}\n",
            (3, 38, "'whitte' is not a colour (use #RRGGBB, #RRGGBBAA or a CSS name such as gold); did you mean 'white'?"),
        ),
        (
            '  - prompt: "zoom in\n',
            (3, 13, "YAML syntax: a quote opened here is never closed; close it on the same text"),
        ),
        (
            "  - fade: [in\n",
            (3, 11, "YAML syntax: a '[' opened here is never closed with ']', or a ',' is missing"),
        ),
    ],
)
def test_the_mistake_is_said_once_with_its_fix(
    write_recipe: WriteRecipe, steps: str, expected: tuple[int, int, str]
) -> None:
    assert problems_of(write_recipe(HEAD + steps)) == [expected]


def test_a_colour_nothing_like_a_name_gets_no_suggestion(write_recipe: WriteRecipe) -> None:
    [(_, _, message)] = problems_of(write_recipe(HEAD + "  - text: {content: hi, color: qqqqq}\n"))
    assert "did you mean" not in message


def test_a_quoted_template_reads_as_text(write_recipe: WriteRecipe) -> None:
    from joypix_recipes.recipe import load_recipe

    recipe = load_recipe(write_recipe(HEAD + '  - text: {content: "{{ vars.brand }}"}\nvars: {brand: A}\n'))
    assert recipe.steps[0].body["content"].text == "{{ vars.brand }}"  # type: ignore[union-attr]
