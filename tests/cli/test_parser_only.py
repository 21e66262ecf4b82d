"""A parser built for the one command a command line names parses, helps and fails as the whole one does."""

from __future__ import annotations

import pytest

from joypix_recipes.cli.parser import build_parser, chosen_command, command_names

WHOLE = build_parser()
COMMANDS = list(command_names(WHOLE))

_LINES = {
    "validate": ["validate", "a.yaml", "b.yaml", "--var", "k=v", "-v", "--json", "--backend", "local"],
    "run": ["-q", "run", "r.yaml", "--dry-run", "--input", "x/", "--concurrency", "3", "--base-url", "http://h"],
    "watch": ["watch", "in/", "--recipe", "r.yaml", "--polling", "--once", "--broker", "redis://h/0"],
    "emulator": ["--debug", "emulator", "--port", "9000", "--knob", "a=1", "-vv"],
    "completion": ["completion", "fish"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_the_commands_help_and_the_top_help_are_those_of_the_whole_parser(command: str) -> None:
    only = build_parser(command)
    assert list(command_names(only)) == COMMANDS
    assert only.format_help() == WHOLE.format_help()
    assert command_names(only)[command].format_help() == command_names(WHOLE)[command].format_help()


@pytest.mark.parametrize("words", list(_LINES.values()), ids=list(_LINES))
def test_a_command_line_parses_to_the_same_arguments(words: list[str]) -> None:
    command = chosen_command(words)
    assert command == words[[not word.startswith("-") for word in words].index(True)]
    assert vars(build_parser(command).parse_args(words)) == vars(WHOLE.parse_args(words))


@pytest.mark.parametrize(
    "words", [["validate", "a.yaml", "--vars", "k=v"], ["run"], ["runn", "r.yaml"], ["farm", "stat"]]
)
def test_a_mistake_fails_with_the_same_message(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    messages = []
    for parser in (build_parser(chosen_command(words)), WHOLE):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(words)
        messages.append((exit_.value.code, capsys.readouterr().err))
    assert messages[0] == messages[1]
    assert messages[0][0] == 2 and "error" in messages[0][1]


def test_the_command_is_the_first_word_that_is_no_flag() -> None:
    assert chosen_command(["-v", "--json", "validate", "x"]) == "validate"
    assert chosen_command(["--", "validate"]) is None
    assert chosen_command(["-h"]) is None
