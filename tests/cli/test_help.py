"""Help that teaches: every command says what it does and shows how, and every option says what it is for."""

from __future__ import annotations

import argparse

import pytest

from joypix_recipes.cli.parser import build_parser, command_names

COMMANDS = command_names(build_parser())


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [action for action in parser._actions if not isinstance(action, argparse._HelpAction)]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_a_description_and_examples_of_itself(name: str) -> None:
    parser = COMMANDS[name]
    assert parser.description and len(parser.description) > 30
    assert parser.formatter_class is argparse.RawDescriptionHelpFormatter
    examples = [line for line in (parser.epilog or "").splitlines() if line.strip().startswith("joypix ") or f"joypix {name}" in line]
    assert 2 <= len(examples) <= 3, parser.epilog
    assert all(f"joypix {name}" in line for line in examples)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_argument_of_every_command_has_help(name: str) -> None:
    silent = [action.option_strings or [action.dest] for action in _arguments(COMMANDS[name]) if not action.help]
    assert silent == []


def test_joypix_itself_has_examples_and_help_for_its_flags() -> None:
    parser = build_parser()
    assert "examples:" in (parser.epilog or "")
    flags = [action for action in _arguments(parser) if not isinstance(action, argparse._SubParsersAction)]
    assert flags and all(action.help for action in flags)


def test_poll_interval_is_offered_only_where_renders_are_polled() -> None:
    polling = sorted(name for name, parser in COMMANDS.items() if "--poll-interval" in parser._option_string_actions)
    assert polling == ["fetch", "run"]


def test_broker_help_says_what_the_broker_is_to_each_command() -> None:
    def broker_help(name: str) -> str:
        return COMMANDS[name]._option_string_actions["--broker"].help or ""

    assert "send" in broker_help("run") and "send" in broker_help("watch")
    assert "send" not in broker_help("worker") and "send" not in broker_help("doctor")


def test_run_input_help_names_tables() -> None:
    help_text = COMMANDS["run"]._option_string_actions["--input"].help or ""
    assert ".csv" in help_text and "table" in help_text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_renders_for_every_command(name: str) -> None:
    text = COMMANDS[name].format_help()
    assert text.startswith(f"usage: joypix {name}") and "examples:\n  " in text and f"joypix {name} " in text.split("examples:")[1]
