"""Checks beyond the schema, at load time: templates, numbers written as text, variants, `requires`."""

from __future__ import annotations

import pytest

from joypix_recipes import __version__
from joypix_recipes.errors import RecipeError, RequiresError
from joypix_recipes.recipe import load_recipe

from .conftest import WriteRecipe, problems_of


def test_undefined_var_names_variable_and_line(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        vars: {title: Sale}
        steps:
          - prompt: "make it pop for {{ vars.titel }}"
        """
    )
    assert problems_of(path) == [
        (4, 38, "undefined variable vars.titel: nothing in the recipe defines it; did you mean vars.title?")
    ]


def test_undefined_var_in_a_block_scalar_points_at_its_own_line(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        steps:
          - prompt: |
              zoom in slowly
              then show {{ vars.brand }}
        """
    )
    assert problems_of(path) == [
        (
            5,
            25,
            "undefined variable vars.brand: nothing in the recipe defines it; add it under vars: or pass --var brand=VALUE",
        )
    ]


def test_vars_from_inputs_variants_and_the_command_line_count_as_defined(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        inputs:
          - {path: a.jpg, vars: {from_input: x}}
        variants:
          - {name: reels, vars: {from_variant: y}}
        steps:
          - prompt: "{{ vars.from_input }} {{ vars.from_variant }} {{ vars.from_cli }}"
        """
    )
    assert problems_of(path) == [
        (7, 68, "undefined variable vars.from_cli: nothing in the recipe defines it; did you mean vars.from_input?")
    ]
    assert load_recipe(path, extra_vars=["from_cli"]).steps[0].kind == "prompt"


def test_optional_vars_guarded_by_default_or_defined_are_accepted(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        steps:
          - prompt: "{{ vars.mood | default('calm') }}"
          - when: vars.loud is defined and vars.loud
            prompt: "louder"
        """
    )
    assert len(load_recipe(path).steps) == 2


@pytest.mark.parametrize(
    ("template", "column", "message"),
    [
        ("{{ input.__class__ }}", 23, "private name '__class__' is not allowed in templates"),
        ("{{ vars._secret }}", 22, "private name '_secret' is not allowed in templates"),
        ("{{ input['__dict__'] }}", 24, "private name '__dict__' is not allowed in templates"),
        ("{{ vars | attr('__len__') }}", 24, "private names are not allowed in templates"),
        ("{{ colour }}", 17, "unknown name 'colour': templates see vars, input, variant and recipe"),
        (
            "{{ title }}",
            17,
            "unknown name 'title': templates see vars, input, variant and recipe; did you mean vars.title?",
        ),
        ("{{ range(3) }}", 17, "unknown name 'range': templates see vars, input, variant and recipe"),
        ("{{ input.colour }}", 23, "input has no 'colour'; it has path, name, stem, suffix, index, width, height, count, images"),
        ("{{ recipe.author }}", 24, "recipe has no 'author'; it has name"),
        ("{{ vars.title ", 13, "template syntax: unexpected end of template, expected 'end of print statement'."),
    ],
)
def test_template_problems_at_their_position(
    write_recipe: WriteRecipe, template: str, column: int, message: str
) -> None:
    path = write_recipe(f'version: 1\nvars: {{title: t}}\nsteps:\n  - prompt: "{template}"\n')
    assert problems_of(path) == [(4, column, message)]


def test_when_expression_is_checked_at_its_line(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - prompt: hi\n    when: variant.name == 'reels' and vars.nope\n")
    ((line, column, message),) = problems_of(path)
    assert (line, column) == (4, 44) and message.startswith("undefined variable vars.nope")


def test_when_expression_syntax_error(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - prompt: hi\n    when: variant.name ==\n")
    ((line, column, message),) = problems_of(path)
    assert (line, column) == (4, 11) and message.startswith("template syntax:")


def test_when_written_with_braces_says_to_drop_them(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - prompt: hi\n    when: \"{{ variant.name == 'a' }}\"\n")
    assert problems_of(path) == [
        (4, 11, "when is already an expression: write it without {{ }}, as in when: variant.name == 'reels'")
    ]


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (
            "/tmp/{{ input.stem }}.mp4",
            "the output name is an absolute path; give a name inside the output folder (use --out to choose the folder)",
        ),
        ("../{{ input.stem }}.mp4", "the output name leaves the output folder ('..'); use --out to choose the folder"),
        (
            "{{ input.stem }}/../../x.mp4",
            "the output name leaves the output folder ('..'); use --out to choose the folder",
        ),
        (
            "/srv/clip.mp4",
            "the output name is an absolute path; give a name inside the output folder (use --out to choose the folder)",
        ),
    ],
)
def test_output_that_visibly_leaves_the_folder_is_refused_at_load(
    write_recipe: WriteRecipe, output: str, message: str
) -> None:
    path = write_recipe(f'version: 1\nsteps:\n  - prompt: hi\nexport:\n  output: "{output}"\n')
    ((line, _, got),) = problems_of(path)
    assert (line, got) == (5, message)


def test_variant_output_is_checked_too(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        "version: 1\nsteps:\n  - prompt: hi\nvariants:\n  - name: a\n    export: {output: '../a.mp4'}\n"
    )
    ((line, _, message),) = problems_of(path)
    assert line == 6 and "leaves the output folder" in message


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("duration: five", "animate.duration must be a number or a template that renders to one, not 'five'"),
        ("duration: '1:30'", "animate.duration must be a number or a template that renders to one, not '1:30'"),
        ("duration: '0'", "animate.duration must be more than 0, not 0"),
        ("zoom: '5'", "animate.zoom must be at most 4, not 5"),
    ],
)
def test_numbers_written_as_text_must_read_as_numbers(write_recipe: WriteRecipe, field: str, message: str) -> None:
    path = write_recipe(f"version: 1\nsteps:\n  - animate:\n      {field}\n")
    assert [(line, got) for line, _, got in problems_of(path)] == [(4, message)]


def test_volume_accepts_a_fraction_or_a_percentage(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        "version: 1\nsteps:\n  - audio: {file: a.m4a, volume: '35%'}\n  - audio: {file: b.m4a, volume: 0.5}\n"
    )
    volumes = [step.body["volume"] for step in load_recipe(path).steps]
    assert volumes == [0.35, 0.5]


def test_volume_percentage_out_of_range(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - audio: {file: a.m4a, volume: '135%'}\n")
    assert problems_of(path) == [(3, 34, "audio.volume must be at most 1, not 1.35")]
    path = write_recipe("version: 1\nsteps:\n  - audio: {file: a.m4a, volume: loud}\n")
    assert problems_of(path) == [
        (
            3,
            34,
            "audio.volume must be a number or a percentage such as \"35%\" or a template that renders to one, not 'loud'",
        )
    ]


def test_variant_names_must_differ(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - prompt: hi\nvariants:\n  - name: reels\n  - name: reels\n")
    assert problems_of(path) == [(6, 11, "variant name 'reels' is used twice (first at line 5); names must differ")]


def test_requires_newer_version_is_reported_first_and_alone(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 7\nrequires: '>=99.1'\nsteps: nonsense\nfuture_key: 1\n")
    with pytest.raises(RequiresError) as caught:
        load_recipe(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, 11)
    assert problem.message == (
        f"this recipe needs joypix 99.1 or newer, but this is joypix {__version__}; "
        "upgrade with: pip install --upgrade joypix-recipes"
    )


@pytest.mark.parametrize("requires", [">=0.3", "0.1", ">= 0.3.0", "0"])
def test_requires_met_by_this_version_passes(write_recipe: WriteRecipe, requires: str) -> None:
    path = write_recipe(f"version: 1\nrequires: '{requires}'\nsteps:\n  - prompt: hi\n")
    assert load_recipe(path).requires == requires


def test_requires_error_is_a_recipe_error(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nrequires: '>=1000'\nsteps:\n  - prompt: hi\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert caught.value.exit_code == 2
