"""How the command line reads: shared flags on either side of the command, a mistyped command or option
answered with the closest one, a command's own usage for its errors, and errors as JSON under --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.repo import REPO

from joypix_recipes.cli import farm_extra
from joypix_recipes.cli.boundary import run_command
from joypix_recipes.cli.main import main
from joypix_recipes.cli.parser import build_parser

QUICKSTART = str(REPO / "recipes/quickstart.yaml")


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "--json", "run", "r.yaml"],
        ["run", "r.yaml", "-v", "--json"],
        ["--json", "run", "-v", "r.yaml"],
    ],
)
def test_shared_flags_mean_the_same_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, args.recipe, args.verbose, args.json, args.quiet, args.debug) == ("run", "r.yaml", 1, True, False, False)


def test_verbose_counts_across_both_sides_of_the_command() -> None:
    assert build_parser().parse_args(["-vv", "worker"]).verbose == 2
    assert build_parser().parse_args(["-v", "status", "-v"]).verbose == 2
    assert build_parser().parse_args(["--debug", "doctor", "-q"]).debug is True


def test_every_command_takes_the_shared_flags_after_its_name() -> None:
    for command, extra in {"validate": ["r.yaml"], "schema": [], "credits": [], "emulator": [], "completion": ["bash"]}.items():
        args = build_parser().parse_args([command, *extra, "-q", "--json", "--debug", "-v"])
        assert (args.quiet, args.json, args.debug, args.verbose) == (True, True, True, 1), command


def test_a_mistyped_command_is_answered_with_the_closest_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["rn", "r.yaml"])
    assert stopped.value.code == 2
    assert "did you mean 'run'?" in capsys.readouterr().err


def test_a_word_like_no_command_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["zzzzzz"])
    err = capsys.readouterr().err
    assert "unknown command 'zzzzzz'" in err and "did you mean" not in err and "validate, schema" in err


def test_a_bad_option_shows_the_usage_of_its_command_not_of_joypix(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", QUICKSTART, "--dry-rn"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: joypix run ") and "--dry-run" in err.splitlines()[0] + err
    assert "unrecognized arguments: --dry-rn (did you mean --dry-run?)" in err
    assert "COMMAND ..." not in err


def test_with_json_an_error_is_one_json_object_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "run", str(tmp_path / "missing.yaml")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    error = json.loads(line)
    assert error["exit_code"] == 2 and "missing.yaml" in error["error"] and "no such" in error["error"]
    assert error["problems"] == [error["error"]]


def test_with_json_a_usage_error_is_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", QUICKSTART, "--dry-run", "--var", "novalue", "--json"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line) == {"error": "--var expects KEY=VALUE, got 'novalue'", "exit_code": 2}


def test_with_json_a_command_line_error_is_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", QUICKSTART, "--json", "--bogus"])
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line) == {"error": "joypix run: unrecognized arguments: --bogus", "exit_code": 2}


def test_without_json_errors_stay_lines_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml" in err and not err.lstrip().startswith("{")


def test_a_farm_command_without_the_farm_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(farm_extra, "FARM_MODULES", ("fsspec", "joypix_no_such_module"))
    assert main(["worker", "--broker", "redis://127.0.0.1:1/0"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "joypix_no_such_module" in line and "pip install 'joypix-recipes[farm]'" in line and "fsspec" not in line


def test_a_broker_in_the_environment_needs_the_farm_extra_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(farm_extra, "FARM_MODULES", ("joypix_no_such_module",))
    monkeypatch.setenv("JOYPIX_BROKER", "redis://127.0.0.1:1/0")
    assert main(["run", QUICKSTART, "--out", str(tmp_path)]) == 2
    assert "joypix-recipes[farm]" in capsys.readouterr().err


def test_a_single_machine_run_does_not_need_the_farm_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(farm_extra, "FARM_MODULES", ("joypix_no_such_module",))
    monkeypatch.delenv("JOYPIX_BROKER", raising=False)
    assert main(["run", QUICKSTART, "--dry-run", "--out", str(tmp_path)]) == 0
    assert "farm" not in capsys.readouterr().err


def test_with_json_a_bug_is_one_json_object_naming_its_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JOYPIX_DEBUG", raising=False)

    def buggy(args: object) -> int:
        raise KeyError("http://user:hunter2-password@example.com")

    assert run_command(buggy, build_parser().parse_args(["credits", "--json"])) == 3
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    error = json.loads(line)
    (log,) = (tmp_path / "home" / "crashes").iterdir()
    assert error == {
        "error": f"joypix: internal error (KeyError); the details are in {log}; please report it",
        "exit_code": 3,
        "crash_log": str(log),
    }
    assert captured.out == "" and "hunter2-password" not in log.read_text(encoding="utf-8")


def test_with_json_and_debug_a_bugs_traceback_is_inside_the_one_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))

    def buggy(args: object) -> int:
        raise ValueError("planted")

    assert run_command(buggy, build_parser().parse_args(["--debug", "schema", "--json"])) == 3
    (line,) = capsys.readouterr().err.splitlines()
    error = json.loads(line)
    assert error["exit_code"] == 3 and "internal error (ValueError)" in error["error"]
    assert "Traceback" in error["traceback"] and "ValueError: planted" in error["traceback"]
    assert not (tmp_path / "home").exists()


def test_with_json_no_command_is_a_json_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json"]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert json.loads(line) == {"error": "joypix: give a command (joypix --help lists them)", "exit_code": 2}
    assert captured.out == ""


def test_without_json_no_command_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: joypix" in capsys.readouterr().out


@pytest.mark.parametrize("as_json", [True, False])
def test_a_run_with_nothing_to_run_is_a_usage_error_json_under_json(
    as_json: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("version: 1\ninputs: []\nsteps:\n  - animate: {duration: 1}\n", encoding="utf-8")
    assert main(["run", str(recipe), "--out", str(tmp_path / "out"), *(["--json"] if as_json else [])]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    message = f"{recipe}: no inputs; list images under inputs: or pass --input PATH"
    assert (json.loads(line) if as_json else line) == ({"error": message, "exit_code": 2} if as_json else f"error: {message}")
