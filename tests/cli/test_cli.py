"""The `joypix` command line: exit codes, one-line errors, and that every command is documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.repo import REPO
from helpers.runs import run_joypix

from joypix_recipes.cli.boundary import run_command
from joypix_recipes.cli.main import COMMANDS, command_handler, main
from joypix_recipes.cli.parser import build_parser


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _subcommands() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._subparsers._group_actions]  # type: ignore[union-attr]
    return sorted(name for action in actions for name in action.choices)


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _subcommands() if f"joypix {name}" not in readme]
    assert missing == []


def test_every_command_the_parser_offers_has_a_handler_and_no_handler_is_unreachable() -> None:
    assert _subcommands() == sorted(COMMANDS)
    assert all(callable(command_handler(name)) for name in COMMANDS)


def test_validate_imports_no_other_command_and_nothing_heavy() -> None:
    code = (
        "import sys; from joypix_recipes.cli.main import main; "
        "code = main(['validate', 'recipes/product-showcase.yaml']); "
        "print(code, ' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    code, *loaded = result.stderr.split()
    commands = {f"joypix_recipes.cli.{module}" for module in COMMANDS.values()} - {"joypix_recipes.cli.validate"}
    # validate plans as run plans (reading subtitles it checks), but renders nothing and talks to no service
    heavy = {"asyncio", "httpx", "av", "PIL", "numpy", "joypix_recipes.run", "joypix_recipes.backends.local"}
    assert code == "0" and "joypix_recipes.cli.validate" in loaded
    assert not set(loaded) & (commands | heavy)


def test_validate_accepts_every_shipped_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    recipes = sorted(str(p) for p in (REPO / "recipes").glob("*.yaml"))
    assert recipes
    assert main(["validate", *recipes]) == 0
    assert capsys.readouterr().out.count(": ok") == len(recipes)


def test_validate_points_at_file_line_and_column_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _write(
        tmp_path / "broken.yaml",
        "version: 1\nname: broken\nsteps:\n  - animate:\n      motoin: zoom-in\n",
    )
    assert main(["validate", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert f"{recipe}:5:7:" in err
    assert "motion" in err  # the did-you-mean suggestion
    assert "Traceback" not in err


def test_validate_accepts_a_variable_promised_with_var(tmp_path: Path) -> None:
    recipe = _write(
        tmp_path / "r.yaml",
        'version: 1\nname: r\nsteps:\n  - prompt: "title {{ vars.brand }}"\n',
    )
    assert main(["validate", str(recipe)]) == 2
    assert main(["validate", "--var", "brand=Acme", str(recipe)]) == 0


def test_missing_recipe_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope.yaml" in err
    assert len(err.splitlines()) == 1


def test_malformed_var_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(REPO / "recipes/quickstart.yaml"), "--dry-run", "--var", "novalue"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_dry_run_json_lists_jobs_with_absolute_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = REPO / "recipes/product-showcase.yaml"
    assert main(["run", str(recipe), "--dry-run", "--json", "--out", str(tmp_path)]) == 0
    jobs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(jobs) >= 3
    assert {job["variant"] for job in jobs} >= {"reels", "feed", "youtube"}
    for job in jobs:
        assert Path(job["output"]).is_absolute()
        assert tmp_path in Path(job["output"]).parents
        assert Path(job["input"]["path"]).is_absolute()


def test_dry_run_with_input_replaces_the_recipe_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "mine.jpg"
    image.write_bytes((REPO / "recipes/samples/sample.jpg").read_bytes())
    recipe = REPO / "recipes/quickstart.yaml"
    assert main(["run", str(recipe), "--dry-run", "--input", str(image), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "mine.jpg" in out
    assert "sample.jpg" not in out


def test_run_without_inputs_says_how_to_give_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = _write(tmp_path / "r.yaml", 'version: 1\nname: r\nsteps:\n  - prompt: "zoom in"\n')
    assert main(["run", str(recipe), "--out", str(tmp_path / "o")]) == 2
    assert "--input" in capsys.readouterr().err


def test_schema_prints_the_repository_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed) == json.loads((REPO / "schemas/recipe.schema.json").read_text(encoding="utf-8"))


def test_init_writes_a_recipe_that_validates_once_its_photos_are_there_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "promo"]) == 0
    written = tmp_path / "promo.yaml"
    assert written.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=")
    assert main(["validate", str(written)]) == 2  # as run would, it looks for the photos
    assert "input 'photos/*.jpg' matches no file" in capsys.readouterr().err
    write_image(tmp_path / "photos" / "a.jpg", (32, 32))
    assert main(["validate", str(written)]) == 0
    assert main(["init", "promo"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: joypix" in capsys.readouterr().out


def test_installed_entry_point_runs_and_reports_errors_without_traceback(tmp_path: Path) -> None:
    broken = _write(tmp_path / "bad.yaml", "version: 1\nname: [unclosed\n")
    result = run_joypix(["validate", str(broken)], tmp_path, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{broken}:")
    assert "Traceback" not in result.stderr


def test_an_unexpected_error_keeps_its_traceback_in_a_crash_log_and_prints_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))

    def buggy(args: object) -> int:
        raise KeyError("http://user:hunter2-password@example.com")

    args = build_parser().parse_args(["credits"])
    assert run_command(buggy, args) == 3

    err = capsys.readouterr().err
    assert "internal error (KeyError)" in err and "--debug" not in err
    (log,) = (tmp_path / "home" / "crashes").iterdir()
    assert str(log) in err
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "def buggy" not in err and "buggy" in text
    assert "hunter2-password" not in text
    assert log.stat().st_mode & 0o077 == 0


def test_group_without_input_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("version: 1\nsteps:\n  - animate: {}\n")
    assert main(["run", str(recipe), "--group"]) == 2
    assert "--group makes one clip of each --input" in capsys.readouterr().err


def test_dry_run_lists_the_images_of_a_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    for name in ("b.png", "a.png"):
        Image.new("RGB", (32, 32)).save(tmp_path / name)
    recipe = tmp_path / "r.yaml"
    recipe.write_text('version: 1\ninputs:\n  - images: ["*.png"]\nsteps:\n  - animate: {}\n')
    assert main(["run", str(recipe), "--dry-run"]) == 0
    assert "  images (2): a.png, b.png" in capsys.readouterr().out
