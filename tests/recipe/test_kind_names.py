"""The recipe side names the step keywords without loading every kind: the names must be the kinds'."""

from __future__ import annotations

from joypix_recipes.job.kinds import registry


def test_the_step_keywords_are_the_recipe_kinds_in_order() -> None:
    assert registry.RECIPE_KIND_NAMES == tuple(kind.name for kind in registry.RECIPE_KINDS)
    assert registry.ACTION_KINDS == tuple(kind.name for kind in registry.KINDS)


def test_every_kind_is_found_by_its_action() -> None:
    for kind in registry.KINDS:
        assert registry.kind_named(kind.name) is kind
        assert registry.is_kind(kind.action.__new__(kind.action), kind.name)
