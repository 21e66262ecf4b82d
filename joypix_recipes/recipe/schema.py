"""The recipe JSON Schema (the one source of truth) and validation of a document against it.

Validation interprets the subset of JSON Schema 2020-12 the schema uses, so `joypix validate` starts
without importing the jsonschema package and every message is written for a person, at FILE:LINE:COL.
tests/recipe/test_schema.py checks that this agrees with jsonschema itself. Watch files are validated
here too (`validate_against`), so both kinds of file explain their problems in one voice.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joypix_recipes.errors import Problem
from joypix_recipes.recipe.source import DataPath, Document

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "recipe.schema.json"
"""The package's copy of schemas/recipe.schema.json (a test proves the two are identical)."""

_TYPE_NAMES = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "null": "empty",
}
_FPS_PATTERN = "^\\s*([0-9]+(\\.[0-9]+)?|[0-9]+\\s*/\\s*[0-9]+)\\s*$"
_FRAME_RATE_FORMS = 'is not a frame rate; write a number such as 30 or 29.97, or a ratio such as "30000/1001"'
_PATTERN_MESSAGES = {
    "^(>=\\s*)?[0-9]+(\\.[0-9]+){0,2}$": 'must be a version such as ">=0.3"',
    "^https?://": "must start with http:// or https://",
    "^[A-Za-z0-9][A-Za-z0-9._-]*$": "may contain only letters, digits, '.', '_' and '-', starting with a letter or digit",
    "^[A-Za-z][A-Za-z0-9_]*$": "must start with a letter and contain only letters, digits and '_'",
    _FPS_PATTERN: _FRAME_RATE_FORMS,
}
_ITEM_NAMES = {"steps": "step", "inputs": "input", "variants": "variant", "flows": "flow", "patterns": "pattern"}


def schema_text() -> str:
    """The schema file's exact text (what `joypix schema` prints)."""
    return SCHEMA_PATH.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The schema as a dict (cached; treat it as read-only)."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def field_schema(*names: str) -> dict[str, Any]:
    """The schema of a field under ``$defs``: ``field_schema("Animate", "duration")``."""
    node = load_schema()["$defs"][names[0]]
    for name in names[1:]:
        node = node["properties"][name]
    return dict(node)


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation at a data path; ``at_key`` points at the key rather than its value."""

    path: DataPath
    message: str
    at_key: bool = False


def validate_document(document: Document) -> list[Problem]:
    """Every schema violation in ``document``, as Problems at the offending node."""
    return _located(document, schema_issues(document.data))


def validate_against(document: Document, schema: dict[str, Any], subject: str) -> list[Problem]:
    """Every violation of another of our schemas (a mapping's), worded as recipe problems are.

    ``subject`` names the whole file in messages, as in "the watch file is missing 'flows'".
    """
    return _located(document, list(_Validator(schema, subject).validate(document.data, schema, ())))


def input_issues(entry: Any) -> list[str]:
    """What is wrong with one entry of ``inputs`` (as a table row makes it), by the rules inline entries follow."""
    schema = load_schema()
    return [issue.message for issue in _Validator(schema).validate(entry, schema["$defs"]["Input"], ())]


def _located(document: Document, issues: list[SchemaIssue]) -> list[Problem]:
    problems = []
    for issue in issues:
        span = document.key_span(issue.path) if issue.at_key else document.value_span(issue.path)
        problems.append(document.problem(span, issue.message))
    return problems


def schema_issues(data: Any) -> list[SchemaIssue]:
    """Every schema violation in plain data."""
    if data is None:
        return [SchemaIssue((), "the recipe is empty; start with `version: 1` and a list of steps (see `joypix init`)")]
    if not isinstance(data, dict):
        return [SchemaIssue((), "a recipe is a mapping of keys such as version, name, inputs and steps")]
    return list(_Validator(load_schema()).validate(data, load_schema(), ()))


class _Validator:
    """Walks data and schema together, yielding an issue per violation (one per value for type errors)."""

    def __init__(self, root: dict[str, Any], subject: str = "the recipe") -> None:
        self.root = root
        self.subject = subject

    def validate(self, value: Any, schema: dict[str, Any], path: DataPath) -> Iterator[SchemaIssue]:
        if "$ref" in schema:
            yield from self.validate(value, self._resolve(schema["$ref"]), path)
        types = schema.get("type")
        if types is not None and not _has_type(value, types):
            wrong = (
                _enum_message(value, schema["enum"], path) if "enum" in schema else _type_message(value, types, path)
            )
            yield SchemaIssue(path, wrong)
            return
        if "const" in schema and not _json_equal(value, schema["const"]):
            yield SchemaIssue(path, f"{_where(path)} must be {_show(schema['const'])}, not {_show(value)}")
        if "enum" in schema and not any(_json_equal(value, choice) for choice in schema["enum"]):
            yield SchemaIssue(path, _enum_message(value, schema["enum"], path))
        if _is_number(value):
            yield from number_issues(value, schema, path)
        elif isinstance(value, str):
            yield from _string_issues(value, schema, path)
        elif isinstance(value, list):
            yield from self._array_issues(value, schema, path)
        unknown_keys = False
        if isinstance(value, dict):
            object_issues = list(self._object_issues(value, schema, path))
            unknown_keys = any(issue.at_key and issue.message.startswith("unknown key") for issue in object_issues)
            yield from object_issues
        if "oneOf" in schema:
            yield from self._one_of(value, schema["oneOf"], path, unknown_keys)

    def _resolve(self, reference: str) -> dict[str, Any]:
        node: Any = self.root
        for part in reference.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def _array_issues(self, value: list[Any], schema: dict[str, Any], path: DataPath) -> Iterator[SchemaIssue]:
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield SchemaIssue(path, f"{_where(path)} needs at least {schema['minItems']} item(s)")
        if "items" in schema:
            for index, item in enumerate(value):
                yield from self.validate(item, schema["items"], (*path, index))

    def _object_issues(self, value: dict[str, Any], schema: dict[str, Any], path: DataPath) -> Iterator[SchemaIssue]:
        for key in schema.get("required", ()):
            if key not in value:
                yield SchemaIssue(path, f"{_where(path) if path else self.subject} is missing '{key}'", at_key=True)
        if not schema.get("minProperties", 0) <= len(value) <= schema.get("maxProperties", len(value)):
            choices = " or ".join(f"'{key}'" for key in schema.get("properties", {}))
            yield SchemaIssue(path, f"{_where(path)} needs exactly one of {choices}")
        names = schema.get("propertyNames", {}).get("pattern")
        properties: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        # `animate:` left empty with its fields below it, not under it: said once, at the fields
        strays = {self._owner(value, properties, key) for key in value if key not in properties} if extra is False else set()
        for key, item in value.items():
            if item is None and key in strays:
                continue
            if names is not None and not re.search(names, key):
                yield SchemaIssue(
                    (*path, key), f"the name '{key}' {_PATTERN_MESSAGES.get(names, 'is not allowed')}", True
                )
            if key in properties:
                yield from self.validate(item, properties[key], (*path, key))
            elif extra is False:
                owner = self._owner(value, properties, key)
                message = (
                    f"'{key}' belongs to {owner} above it; indent it further, under {owner}:"
                    if owner is not None
                    else _unknown_key_message(key, list(properties), path)
                )
                yield SchemaIssue((*path, key), message, at_key=True)
            elif isinstance(extra, dict):
                yield from self.validate(item, extra, (*path, key))

    def _owner(self, value: dict[str, Any], properties: dict[str, Any], key: str) -> str | None:
        """The sibling of an unknown ``key`` it is a field of (a key indented too little), if one is."""
        for sibling in value:
            if sibling != key and sibling in properties and key in self._fields(properties[sibling]):
                return str(sibling)
        return None

    def _fields(self, schema: dict[str, Any]) -> set[str]:
        """The keys an object schema (through $ref and oneOf branches) allows."""
        if "$ref" in schema:
            schema = {**self._resolve(schema["$ref"]), **{k: v for k, v in schema.items() if k != "$ref"}}
        names = set(schema.get("properties", {}))
        for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
            if isinstance(branch, dict):
                names |= self._fields(branch)
        return names

    def _one_of(
        self, value: Any, branches: list[dict[str, Any]], path: DataPath, unknown_keys: bool
    ) -> Iterator[SchemaIssue]:
        results = [list(self.validate(value, branch, path)) for branch in branches]
        valid = [branch for branch, issues in zip(branches, results) if not issues]
        if len(valid) == 1:
            return
        kinds = [key for branch in branches for key in branch.get("required", ())]
        if len(valid) > 1:
            found = [key for branch in valid for key in branch.get("required", ())]
            yield SchemaIssue(path, f"{_where(path)} has {' and '.join(found)}; {_exactly_one(path, kinds)}")
            return
        candidates = [
            issues
            for branch, issues in zip(branches, results)
            if "type" not in branch or _has_type(value, branch["type"])
        ]
        if len(candidates) == 1:
            yield from candidates[0]
        elif not unknown_keys:
            yield SchemaIssue(path, f"{_where(path)} needs one of {', '.join(kinds)}; {_exactly_one(path, kinds)}")


def _exactly_one(path: DataPath, kinds: list[str]) -> str:
    if path and path[0] == "steps":
        return "a step does exactly one thing (split it into several steps)"
    return f"give exactly one of {' or '.join(kinds)}"


def number_issues(value: float, schema: dict[str, Any], path: DataPath) -> Iterator[SchemaIssue]:
    """Range violations of a number against a field schema (also used for numbers rendered from templates)."""
    where = _where(path)
    if "minimum" in schema and value < schema["minimum"]:
        yield SchemaIssue(path, f"{where} must be at least {_show(schema['minimum'])}, not {_show(value)}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        yield SchemaIssue(path, f"{where} must be more than {_show(schema['exclusiveMinimum'])}, not {_show(value)}")
    if "maximum" in schema and value > schema["maximum"]:
        yield SchemaIssue(path, f"{where} must be at most {_show(schema['maximum'])}, not {_show(value)}")


def _string_issues(value: str, schema: dict[str, Any], path: DataPath) -> Iterator[SchemaIssue]:
    where = _where(path)
    if "minLength" in schema and len(value) < schema["minLength"]:
        yield SchemaIssue(path, f"{where} must not be empty")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        yield SchemaIssue(path, f"{where} is longer than {schema['maxLength']} characters")
    pattern = schema.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        yield SchemaIssue(path, f"{where} {_show(value)} {_PATTERN_MESSAGES.get(pattern, 'has the wrong form')}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _has_type(value: Any, types: str | list[str]) -> bool:
    for name in [types] if isinstance(types, str) else types:
        if name == "string" and isinstance(value, str):
            return True
        if name == "number" and _is_number(value):
            return True
        if name == "integer" and _is_number(value) and float(value).is_integer():
            return True
        if name == "boolean" and isinstance(value, bool):
            return True
        if name == "object" and isinstance(value, dict):
            return True
        if name == "array" and isinstance(value, list):
            return True
        if name == "null" and value is None:
            return True
    return False


def _json_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return bool(type(left) is type(right) or (_is_number(left) and _is_number(right))) and left == right


def _type_message(value: Any, types: str | list[str], path: DataPath) -> str:
    names = [types] if isinstance(types, str) else list(types)
    if path and path[-1] == "fps":
        return f"{_where(path)} {_show(value)} {_FRAME_RATE_FORMS}"
    if set(names) - {"null"} == {"number", "string"}:
        wanted = "a number or a template that renders to one"
    else:
        wanted = " or ".join(_TYPE_NAMES[name] for name in names)
    message = f"{_where(path)} must be {wanted}, not {_show(value)}"
    if path and path[-1] == "aspect" and _is_number(value):
        message += '; quote it, as in aspect: "9:16"'
    return message


def _enum_message(value: Any, choices: list[Any], path: DataPath) -> str:
    shown = ", ".join(_show(choice, quote=False) for choice in choices)
    message = f"{_where(path)} {_show(value)} is not one of {shown}"
    if isinstance(value, str):
        from difflib import get_close_matches

        close = get_close_matches(value, [str(choice) for choice in choices], n=1, cutoff=0.5)
        if close:
            message += f"; did you mean '{close[0]}'?"
    return message


def _unknown_key_message(key: str, allowed: list[str], path: DataPath) -> str:
    from difflib import get_close_matches

    place = f" in {_where(path)}" if path else ""
    close = get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}'{place}; did you mean '{close[0]}'?"
    return f"unknown key '{key}'{place}; expected one of {', '.join(allowed)}"


def _where(path: DataPath) -> str:
    """How a message names a place: ``animate.duration``, ``step 2``, ``input 1``; the line says exactly where."""
    if not path:
        return "the recipe"
    last = path[-1]
    if isinstance(last, int):
        parent = path[-2] if len(path) > 1 else None
        noun = _ITEM_NAMES.get(parent, "item") if isinstance(parent, str) else "item"
        return f"{noun} {last + 1}"
    if len(path) == 3 and path[0] == "steps":
        return f"{last} step"
    if len(path) >= 2 and isinstance(path[-2], str):
        return f"{path[-2]}.{last}"
    return str(last)


def _show(value: Any, quote: bool = True) -> str:
    """A value as the user wrote it (never a Python repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "empty"
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"'{text}'" if quote else text
    return "a list" if isinstance(value, list) else "a mapping"
