"""``joypix completion``: scripts that the shells load, offering commands, options, choices and recipes."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.repo import REPO

from joypix_recipes.cli.completion import completion_script
from joypix_recipes.cli.main import main
from joypix_recipes.cli.parser import build_parser, command_names
from joypix_recipes.job.kinds.registry import RECIPE_KINDS

BASH = shutil.which("bash")


def _complete_in_bash(tmp_path: Path, words: list[str]) -> list[str]:
    """What the bash script offers for ``words`` (the last one being completed), run in ``tmp_path``."""
    script = tmp_path / "joypix.bash"
    script.write_text(completion_script("bash"), encoding="utf-8")
    quoted = " ".join("'" + word.replace("'", "'\\''") + "'" for word in words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; COMP_LINE=\"${{COMP_WORDS[*]}}\"\n"
        '_joypix joypix "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run([BASH or "bash", "--norc", "--noprofile", "-c", program], cwd=tmp_path,
                          capture_output=True, text=True, timeout=20, check=True)  # fmt: skip
    return sorted(line for line in done.stdout.splitlines() if line)


needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@needs_bash
def test_bash_offers_every_command_and_the_shared_flags(tmp_path: Path) -> None:
    offered = _complete_in_bash(tmp_path, ["joypix", ""])
    assert set(command_names(build_parser())) <= set(offered)
    assert {"--json", "--verbose", "--version"} <= set(offered)
    assert _complete_in_bash(tmp_path, ["joypix", "r"]) == ["run"]
    assert _complete_in_bash(tmp_path, ["joypix", "-v", "wo"]) == ["worker"]


@needs_bash
def test_bash_offers_a_commands_own_options(tmp_path: Path) -> None:
    assert _complete_in_bash(tmp_path, ["joypix", "run", "--dr"]) == ["--dry-run"]
    assert _complete_in_bash(tmp_path, ["joypix", "-q", "worker", "--heart"]) == ["--heartbeat-timeout"]
    assert "--dry-run" not in _complete_in_bash(tmp_path, ["joypix", "watch", "--"])


@needs_bash
def test_bash_offers_recipe_files_and_folders_where_a_recipe_goes(tmp_path: Path) -> None:
    for name in ("promo.yaml", "look.yml", "photo.jpg", "notes.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "recipes").mkdir()
    assert _complete_in_bash(tmp_path, ["joypix", "run", ""]) == ["look.yml", "promo.yaml", "recipes"]
    assert _complete_in_bash(tmp_path, ["joypix", "validate", "-v", "p"]) == ["promo.yaml"]
    assert _complete_in_bash(tmp_path, ["joypix", "watch", "in/", "--recipe", ""]) == ["look.yml", "promo.yaml", "recipes"]
    assert "photo.jpg" in _complete_in_bash(tmp_path, ["joypix", "run", "promo.yaml", "--input", ""])


@needs_bash
def test_bash_offers_an_options_choices(tmp_path: Path) -> None:
    assert _complete_in_bash(tmp_path, ["joypix", "run", "r.yaml", "--backend", ""]) == ["local", "nemo"]
    assert _complete_in_bash(tmp_path, ["joypix", "completion", "z"]) == ["zsh"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse(shell: str, tmp_path: Path) -> None:
    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"{shell} is not installed")
    script = tmp_path / f"joypix.{shell}"
    script.write_text(completion_script(shell), encoding="utf-8")
    check = [program, "-n", str(script)] if shell == "zsh" else [program, "--no-execute", str(script)]
    done = subprocess.run(check, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr


def test_zsh_and_fish_scripts_name_every_command_and_option() -> None:
    commands = command_names(build_parser())
    for shell, recipes in (("zsh", "_files -g '\\''*.(yaml|yml)'\\''"), ("fish", "-a '(__joypix_recipes)'")):
        script = completion_script(shell)
        assert all(name in script for name in commands)
        assert "heartbeat-timeout" in script and "local nemo" in script and recipes in script


def test_the_command_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    out = capsys.readouterr().out
    assert "complete -F _joypix joypix" in out


def test_fish_offers_commands_choices_and_recipes(tmp_path: Path) -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed")
    for name in ("promo.yaml", "look.yml", "photo.jpg"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    script = tmp_path / "joypix.fish"
    script.write_text(completion_script("fish"), encoding="utf-8")

    def offered(line: str) -> list[str]:
        done = subprocess.run([fish, "--no-config", "-c", f"source {script}; complete -C '{line}'"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=20, check=True)  # fmt: skip
        return sorted(row.split("\t")[0] for row in done.stdout.splitlines() if row)

    assert offered("joypix ru") == ["run"]
    assert offered("joypix run r.yaml --backend ") == ["local", "nemo"]
    assert offered("joypix run ") == ["look.yml", "promo.yaml"]
    assert "photo.jpg" in offered("joypix run r.yaml --input ")


@needs_bash
def test_the_printed_script_registers_joypix_in_a_real_bash(tmp_path: Path) -> None:
    joypix = shlex.join([sys.executable, "-m", "joypix_recipes"])
    program = f"source <({joypix} completion bash) && complete -p joypix"
    done = subprocess.run([BASH or "bash", "--norc", "--noprofile", "-c", program], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "complete -F _joypix joypix"


@needs_bash
def test_bash_offers_every_step_kind_after_a_set_step_index(tmp_path: Path) -> None:
    kinds = [kind.name for kind in RECIPE_KINDS]
    assert {"animate", "text", "audio", "fade", "transition", "subtitles", "prompt"} <= set(kinds)
    offered = _complete_in_bash(tmp_path, ["joypix", "run", "r.yaml", "--set", "steps[2]."])
    assert offered == sorted(f"steps[2].{kind}" for kind in kinds)
    assert _complete_in_bash(tmp_path, ["joypix", "validate", "r.yaml", "--set", "steps[10].au"]) == ["steps[10].audio"]


@needs_bash
def test_bash_offers_recipe_settings_after_set(tmp_path: Path) -> None:
    offered = _complete_in_bash(tmp_path, ["joypix", "run", "r.yaml", "--set", "export.r"])
    assert offered == ["export.resolution="]
    everything = _complete_in_bash(tmp_path, ["joypix", "validate", "r.yaml", "--set", ""])
    assert {"steps[", "name=", "vars.", "export.fps="} <= set(everything)


@needs_bash
def test_bash_offers_the_example_recipes_after_init_template(tmp_path: Path) -> None:
    examples = sorted(path.stem for path in (REPO / "recipes").glob("*.yaml"))
    assert "quickstart" in examples
    assert _complete_in_bash(tmp_path, ["joypix", "init", "promo", "--template", ""]) == examples
    assert _complete_in_bash(tmp_path, ["joypix", "init", "--template", "quick"]) == ["quickstart"]


def test_zsh_and_fish_scripts_offer_every_step_kind_and_the_settings() -> None:
    for shell in ("zsh", "fish"):
        script = completion_script(shell)
        assert "{" + ",".join(kind.name for kind in RECIPE_KINDS) + "}" in script, shell
        assert "export.resolution=" in script and "quickstart" in script, shell
