"""Numbers, seconds and quotations as the cloud agent reads them back (every kind's wording uses these)."""

from __future__ import annotations

_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"))


def number(value: float) -> str:
    """Shortest plain decimal that reads back as the same value to the millisecond (no exponent)."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return text or "0"


def seconds(value: float) -> str:
    """``1 second`` or ``2.5 seconds``."""
    return "1 second" if value == 1 else f"{number(value)} seconds"


def quoted(content: str) -> str:
    """Text in the first pair of quotation marks it does not itself close."""
    for opening, closing in _QUOTE_PAIRS:
        if closing not in content:
            return f"{opening}{content}{closing}"
    return f'"{content.replace(chr(34), chr(39))}"'  # every closing mark is in the text: lose the least
