"""Text safe to show on a terminal: control characters in names (escape sequences, newlines) are escaped.

A file name is chosen by whoever dropped the file; printed raw, it could move the cursor, recolour
the screen or forge a line of output.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def printable(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\e``, ``\\x07``).

    ``keep_lines`` keeps newlines and tabs, for messages that span lines on purpose.
    """
    pattern = _CONTROL_BUT_LINES if keep_lines else _CONTROL
    return pattern.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    character = match.group(0)
    return _NAMED.get(character, f"\\x{ord(character):02x}")
