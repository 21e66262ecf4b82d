"""The watch file docs/watch.md shows is a real one: the loader takes it as written, and it means what its comments say."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers.repo import REPO

from joypix_recipes.cli.main import main
from joypix_recipes.recipe import load_recipe
from joypix_recipes.watch import load_watch_file

GUIDE = REPO / "docs" / "watch.md"


def _example() -> str:
    (block,) = re.findall(r"^```yaml\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    return str(block)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The guide's setting: its watch file at the root of a copy of the repository, its folders made."""
    shutil.copytree(REPO / "recipes", tmp_path / "recipes", ignore=shutil.ignore_patterns("out", ".joypix"))
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    for folder in ("incoming/products", "incoming/photos"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "watch.yaml").write_text(_example(), encoding="utf-8")
    return tmp_path


def test_the_guides_watch_file_loads_as_its_comments_say(checkout: Path) -> None:
    config = load_watch_file(checkout / "watch.yaml")
    assert (config.settle_seconds, config.rescan_seconds, config.polling, config.concurrency) == (2.0, 60.0, False, 2)
    products, wide, photos = config.flows
    assert (products.label, products.folder, products.recipe) == (
        "products", checkout / "incoming/products", checkout / "recipes/product-showcase.yaml"
    )
    assert products.patterns == ("*.jpg", "*.jpeg", "*.png", "*.heic") and products.backend == "local"
    assert products.out_dir == checkout / "clips/products"
    assert (wide.label, wide.backend, wide.patterns) == ("wide photos", "nemo", ("wide-*",))
    assert (photos.label, photos.folder, photos.patterns, photos.backend) == ("photos", wide.folder, (), "local")
    assert config.source == checkout / "watch.yaml"


def test_the_guides_flow_vars_are_vars_of_their_recipes(checkout: Path) -> None:
    for flow in load_watch_file(checkout / "watch.yaml").flows:
        declared = set(load_recipe(flow.recipe).vars)
        assert set(flow.vars) <= declared, flow.label
        given = [f"--var={name}={value}" for name, value in flow.vars.items()]
        assert main(["validate", str(flow.recipe), *given]) == 0, flow.label


def test_the_guides_schema_comment_points_at_the_watch_schema(checkout: Path) -> None:
    first = _example().splitlines()[0]
    reference = first.removeprefix("# yaml-language-server: $schema=")
    assert reference != first and (checkout / reference).read_bytes() == (REPO / "joypix_recipes/schemas/watch.schema.json").read_bytes()
