"""The agent answers as if the user had its web GUI; this maps that wording to what joypix does instead.

The documented mapping (docs/protocol.md): "click"/"点击" -> the action runs through the API, "open"/"打开" -> state is
queried, "drag/drop"/"拖拽" -> an edit is sent, "preview in timeline" -> a timeline summary,
"Export"/"导出" -> the export workflow (which joypix runs by itself after the last step).
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?i)\b(?:click|tap|press|hit)\s+(?:on\s+)?(?:the\s+)?[\"'“]?export[\"'”]?(?:\s+button)?"
                   r"(?:\s+(?:to|and)\s+download(?:\s+(?:it|the video|your video))?)?"),
        "joypix exports and downloads the video after the last step",
    ),
    (re.compile(r"点击\s*[「“\"]?导出[」”\"]?(?:按钮)?"), "joypix exports and downloads the video after the last step"),
    (
        re.compile(r"(?i)\bpreview\s+(?:it\s+|this\s+|the\s+result\s+)?in\s+(?:the\s+)?timeline"),
        "see the timeline summary",
    ),
    (re.compile(r"(?i)\bdrag(?:\s*(?:and|&|/)\s*drop)?\b"), "describe in a step how to move"),
    (re.compile(r"拖拽"), "describe in a step how to move"),
    (
        re.compile(r"(?i)\bopen\s+(?:the\s+)?(?:timeline|editor|panel|project|media library)\b"),
        "check the session state (joypix status)",
    ),
    (re.compile(r"打开"), "check the session state (joypix status) for"),
    (re.compile(r"(?i)\b(?:click|tap)\s+(?:on\s+)?(?:the\s+)?"), "ask for "),
    (re.compile(r"点击"), "ask for "),
)


def translate_reply(text: str) -> str:
    """The agent's reply with GUI instructions rewritten for a command-line batch run."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
