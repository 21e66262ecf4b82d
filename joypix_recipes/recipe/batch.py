"""A batch as the command line asks for it: a recipe, --input values, --var and --set overrides, ready to plan.

Loading knows the columns of the --input tables (vars the recipe's templates may use), and the
batch keeps every table it read, so planning reads none of them again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from joypix_recipes.errors import PlanError, RecipeError
from joypix_recipes.recipe.inputs import command_line_table_columns
from joypix_recipes.recipe.model import Recipe, load_recipe
from joypix_recipes.recipe.plan import Plan, PromptCheck, plan_jobs
from joypix_recipes.recipe.source import document_hook
from joypix_recipes.recipe.table import Tables

if TYPE_CHECKING:  # --set is read only when given
    from joypix_recipes.recipe.overrides import Override

# A name any template reads (``vars.brand``, ``vars['brand']``), wherever it is written.
_READ_AS_ATTRIBUTE = r"\bvars\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)"
_READ_AS_ITEM = r"\bvars\s*\[\s*['\"]([^'\"]+)['\"]"


@dataclass(frozen=True)
class UnusedVar:
    """A --var the recipe never uses (most likely a typo), the closest name it does use, and all of them."""

    name: str
    closest: str | None
    used: tuple[str, ...]


@dataclass(frozen=True)
class Batch:
    """A loaded recipe and what the command line gave it; ``tables`` holds the tables read so far."""

    recipe: Recipe
    inputs: tuple[str, ...] | None = None
    var_overrides: Mapping[str, str] = field(default_factory=dict)
    tables: Tables = field(default_factory=Tables, compare=False)
    overrides: tuple[Override, ...] = ()

    def unused_vars(self) -> tuple[UnusedVar, ...]:
        """The --var names the recipe never uses."""
        return unused_vars(self.recipe, self.var_overrides)

    def plan(
        self,
        *,
        out_dir: Path | None = None,
        backend: str | None = None,
        group: bool = False,
        prompts: PromptCheck | None = None,
    ) -> Plan:
        """Plan the batch: inputs that cannot run are left out and named in ``Plan.rejected``; raises PlanError.

        ``prompts`` (the local interpreter's reading) makes a prompt the local backend would fail on a problem now.
        """
        try:
            plan = plan_jobs(
                self.recipe,
                inputs=self.inputs,
                var_overrides=self.var_overrides,
                out_dir=out_dir,
                backend=backend,
                group=group,
                strict=False,
                tables=self.tables,
                prompts=prompts,
            )
        except PlanError as error:
            if not self.overrides:
                raise
            raise PlanError(self._at_flags(str(error))) from error
        if not self.overrides:
            return plan
        return replace(
            plan,
            rejected=tuple(self._at_flags(reason) for reason in plan.rejected),
            warnings=tuple(self._at_flags(warning) for warning in plan.warnings),
        )

    def _at_flags(self, text: str) -> str:
        from joypix_recipes.recipe.overrides import at_flags_text

        return at_flags_text(text, self.recipe.file, self.overrides)


def load_batch(
    path: Path,
    *,
    inputs: Sequence[str] | None = None,
    var_overrides: Mapping[str, str] = {},
    tables: Tables | None = None,
    overrides: Sequence[Override] = (),
) -> Batch:
    """Load the recipe at ``path`` for a run with these --input values, --var and --set overrides.

    Raises RecipeError (a problem in a --set value is shown at its flag), or UsageError for a --set path
    the recipe cannot have.
    """
    tables = tables or Tables()
    columns = command_line_table_columns(inputs or (), tables)
    if not overrides:
        recipe = load_recipe(path, extra_vars=[*var_overrides, *columns], tables=tables)
        return Batch(recipe, None if inputs is None else tuple(inputs), dict(var_overrides), tables)
    from joypix_recipes.recipe.overrides import at_flags, overrides_hook

    try:
        with document_hook(overrides_hook(path, overrides)):
            recipe = load_recipe(path, extra_vars=[*var_overrides, *columns], tables=tables)
    except RecipeError as error:
        raise type(error)(at_flags(error.problems, overrides)) from error
    return Batch(recipe, None if inputs is None else tuple(inputs), dict(var_overrides), tables, tuple(overrides))


def unused_vars(recipe: Recipe, names: Mapping[str, str] | Sequence[str]) -> tuple[UnusedVar, ...]:
    """The ``names`` the recipe neither defines (vars: of the recipe, its inputs, its variants) nor reads."""
    from difflib import get_close_matches  # the suggestions only for a --var nothing uses

    text = "\n".join(recipe.lines)
    used = set(recipe.vars)
    used |= {name for spec in recipe.inputs or () for name in spec.vars}
    used |= {name for variant in recipe.variants or () for name in variant.vars}
    used |= set(re.findall(_READ_AS_ATTRIBUTE, text)) | set(re.findall(_READ_AS_ITEM, text))
    known = tuple(sorted(used))
    return tuple(
        UnusedVar(name, next(iter(get_close_matches(name, known, n=1)), None), known)
        for name in names
        if name not in used
    )
