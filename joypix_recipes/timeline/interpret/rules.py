"""Phrase rules: each lexicon phrase compiled with word boundaries, the token kind it yields and the value it carries.

A sentence becomes its leftmost-longest, non-overlapping tokens; whether a token's value is usable
("0 seconds", "900%" are not) is decided here too, so the reading only decides what each token edits.
A rule is compiled the first time a sentence holds one of its trigger words: compiling them all cost
more than the rest of `joypix validate`, and a prompt needs only a few.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joypix_recipes.timeline.interpret.lexicon import (
    ASPECTS,
    BLURRED_FILL,
    COVER_FILL,
    DURATION,
    EASINGS,
    FADE,
    FADE_CJK,
    FIRST_SECONDS,
    FOR_SECONDS,
    FROM_SECONDS,
    MOTIONS,
    MUSIC,
    NO_FADE,
    NO_TRANSITION,
    PERCENT_VOLUME,
    POSITION,
    RESOLUTIONS,
    SEQUENCE,
    SIZE,
    SPAN,
    STRENGTHS,
    TEXT_WORD,
    TO_THE_END,
    TRANSITION,
    WORDED_VOLUME,
    ZOOM_FACTOR,
    parse_number,
)
from joypix_recipes.timeline.interpret.normalization import MARK_CLOSE, MARK_OPEN

WORD_START = rf"(?<![a-z0-9{MARK_OPEN}])"
WORD_END = r"(?![a-z0-9])"


@dataclass(frozen=True)
class Token:
    """A phrase found in a sentence: its kind, where it is, its text and the value it states."""

    kind: str
    start: int
    end: int
    text: str
    value: Any = None


class Rule:
    """A token kind, the phrase that yields it (compiled on first use) and the value a match carries."""

    def __init__(self, kind: str, source: str, value: Callable[[re.Match[str]], Any]) -> None:
        self.kind = kind
        self.source = WORD_START + f"(?:{source})" + WORD_END
        self.value = value
        self._pattern: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled phrase."""
        if self._pattern is None:
            self._pattern = re.compile(self.source)
        return self._pattern


def _rules() -> list[Rule]:
    # Order matters: at the same start the longest match wins, and at the same length the earlier rule.
    rules: list[Rule] = []

    def add(kind: str, pattern: str, value: Callable[[re.Match[str]], Any] = lambda m: None) -> None:
        rules.append(Rule(kind, pattern, value))

    add("quote", rf"{MARK_OPEN}(?P<q>\d+){MARK_CLOSE}", lambda m: int(m.group("q")))
    add("span", SPAN, _span_value)
    add("first", FIRST_SECONDS, lambda m: parse_number(m.group("n")))
    add("for", FOR_SECONDS, lambda m: parse_number(m.group("n")))
    add("start", FROM_SECONDS, lambda m: parse_number(m.group("n")))
    add("to_end", TO_THE_END)
    add("duration", DURATION, lambda m: parse_number(m.group("n")))
    add("position", POSITION, _position)
    add("size", SIZE, lambda m: parse_number(m.group("n") or m.group("n2")))
    add("text_word", TEXT_WORD, lambda m: m.group("w") or m.group("z"))
    add("volume", PERCENT_VOLUME, lambda m: parse_number(m.group("n")) / 100)
    add("volume", WORDED_VOLUME, lambda m: 0.5 if m.group("h") == "half" else 1.0)
    add("no_fade", NO_FADE, lambda m: m.group("dir") or "both")
    add("fade", FADE, _fade_value)
    add("fade", FADE_CJK, _fade_value)
    add("music", MUSIC, lambda m: m.group("style"))
    add("transition", TRANSITION, _transition_value)
    add("transition", NO_TRANSITION, lambda m: ("none", 0.0))
    add("sequence", SEQUENCE)
    add("zoom_x", ZOOM_FACTOR, lambda m: float(m.group("z")))
    add("strength", "|".join(STRENGTHS), lambda m: STRENGTHS[m.group(0)])
    for kind, table in (("motion", MOTIONS), ("aspect", ASPECTS), ("resolution", RESOLUTIONS), ("easing", EASINGS)):
        for name, patterns in table.items():
            rules.append(Rule(kind, "|".join(patterns), lambda m, name=name: name))  # type: ignore[misc]
    add("fit", BLURRED_FILL, lambda m: "blur")
    add("fit", COVER_FILL, lambda m: "cover")
    return rules


def _span_value(match: re.Match[str]) -> tuple[float, float]:
    return parse_number(match.group("a") or match.group("a2")), parse_number(match.group("b") or match.group("b2"))


def _position(match: re.Match[str]) -> str:
    word = " ".join((match.group("p") or match.group("c") or "").split())
    if word in ("top", "upper third") or match.group("zt"):
        return "top"
    if word in ("bottom", "lower third") or match.group("zb"):
        return "bottom"
    return "center"


def _transition_value(match: re.Match[str]) -> tuple[str, float | None]:
    seconds = match.group("d") or match.group("d2")
    length = None if seconds is None else parse_number(seconds)
    if match.group("dip"):
        return "dip-to-black", length
    if match.group("slide"):
        return f"slide-{match.group('sd')}", length
    if match.group("wipe"):
        return f"wipe-{match.group('wd')}", length
    if match.group("zoom"):  # alone, "zoom" is a camera move: only "zoom transition" gets here
        return "zoom", length
    return "crossfade", length


def _fade_value(match: re.Match[str]) -> tuple[str, float | None, str | None]:
    raw = match.group("dir") or match.groupdict().get("dir2") or ""
    black = match.groupdict().get("black")
    if raw in ("in", "up", "淡入") or (not raw and black == "from"):
        direction = "in"
    elif raw in ("out", "down", "淡出") or (not raw and black == "to"):
        direction = "out"
    else:
        direction = "both"
    seconds = match.group("d1") or match.groupdict().get("d2")
    target = match.groupdict().get("target")
    where = None if target is None else ("video" if target in ("video", "picture", "image") else "audio")
    if black:
        where = "video"
    return direction, None if seconds is None else parse_number(seconds), where


RULES = _rules()

_TRIGGERS: tuple[tuple[str, ...] | None, ...] = (
    ('\ue000',),  # quote
    ('-', 'between', 'from', 'to'),  # span
    ('first',),  # first
    ('for',),  # for
    ('after', 'from', 'starting'),  # start
    ('entire', 'the', 'throughout', 'whole'),  # to_end
    ('s', '秒'),  # duration
    ('bottom', 'center', 'centre', 'lower', 'middle', 'top', 'upper', '上方', '下方', '中间', '居中', '底部', '顶部'),  # position
    ('pixel', 'px', 'size'),  # size
    ('banner', 'caption', 'heading', 'headline', 'label', 'text', 'title', '字幕', '文字', '标题'),  # text_word
    ('%',),  # volume
    ('volume',),  # volume
    ('fade',),  # no_fade
    ('fade',),  # fade
    ('淡入', '淡出'),  # fade
    ('audio', 'bgm', 'music', 'song', 'track', 'tune', '配乐', '音乐'),  # music
    ('cross fade', 'cross-fade', 'crossfade', 'dip to black', 'dip to-black', 'dip-to black', 'dip-to-black', 'dips to black', 'dips to-black', 'dips-to black', 'dips-to-black', 'dissolve', 'slide ', 'slide-', 'slides ', 'slides-', 'wipe left', 'wipe right', 'wipe-left', 'wipe-right', 'wipes left', 'wipes right', 'wipes-left', 'wipes-right', 'zoom'),  # transition
    ('hard', 'transition'),  # transition
    ('upload',),  # sequence
    ('x',),  # zoom_x
    ('dramatic', 'gentle', 'gently', 'intense', 'slight', 'slow', 'strong', 'subtle', 'subtly', '强烈', '慢慢', '缓慢', '轻微'),  # strength
    ('dolly in', 'dolly-in', 'dollyin', 'move', 'push in', 'push-in', 'pushes in', 'pushes-in', 'pushesin', 'pushin', 'zoom', '推近', '推进', '放大'),  # motion
    ('dolly out', 'dolly-out', 'dollyout', 'move', 'pull', 'zoom out', 'zoom-out', 'zooming out', 'zooming-out', 'zoomingout', 'zoomout', 'zooms out', 'zooms-out', 'zoomsout', '拉远', '缩小'),  # motion
    ('left', 'right', '向左平移', '左移'),  # motion
    ('right', '右移', '向右平移'),  # motion
    ('pan', 'tilt', '上移', '向上平移'),  # motion
    ('down', '下移', '向下平移'),  # motion
    ('ken burns', 'ken-burns', 'kenburns'),  # motion
    ('camera', 'motion', 'movement', 'static', 'still', 'without', '不动', '静止'),  # motion
    ('4', 'feed', 'instagram', 'portrait'),  # aspect
    ('16', 'portrait', 'reel', 'shorts', 'stories', 'story', 'tik', 'vertical', '竖屏', '竖版'),  # aspect
    ('16', 'horizontal', 'landscape', 'screen', 'youtube', '横屏', '横版'),  # aspect
    ('1', 'square', '方形'),  # aspect
    ('1080', 'fhd', 'full'),  # resolution
    ('720', 'hd'),  # resolution
    ('480', 'sd'),  # resolution
    ('ease in and out', 'ease in and-out', 'ease in out', 'ease in-and out', 'ease in-and-out', 'ease in-out', 'ease-in and out', 'ease-in and-out', 'ease-in out', 'ease-in-and out', 'ease-in-and-out', 'ease-in-out', 'eased', 'smooth', '平滑', '流畅'),  # easing
    ('constant', 'linear', 'steady', '匀速'),  # easing
    ('blur',),  # fit
    ('fill', 'frame'),  # fit
)  # fmt: skip

TRIGGERS = dict(zip(RULES, _TRIGGERS, strict=True))
"""Per rule, words one of which every match of it contains (None: no such words), so a sentence holding
none of them cannot match and the rule need not be compiled. Derived from the phrases; a test derives
them again and fails, printing the new table, when a phrase changes."""


def find_tokens(sentence: str) -> list[Token]:
    """Leftmost-longest, non-overlapping phrase matches (rule order breaks ties)."""
    found: list[tuple[int, int, int, Token]] = []
    for order, rule in enumerate(RULES):
        triggers = TRIGGERS[rule]
        if triggers is not None and not any(word in sentence for word in triggers):
            continue
        for match in rule.pattern.finditer(sentence):
            if match.end() > match.start():
                token = Token(rule.kind, match.start(), match.end(), match.group(0), rule.value(match))
                found.append((match.start(), -match.end(), order, token))
    chosen: list[Token] = []
    reached = 0
    for start, _, _, token in sorted(found, key=lambda item: item[:3]):
        if start >= reached:
            chosen.append(token)
            reached = token.end
    return chosen


_USABLE: dict[str, Callable[[Any], bool]] = {
    "duration": lambda v: 0 < v <= 600,
    "for": lambda v: 0 < v <= 600,
    "first": lambda v: 0 < v <= 600,
    "start": lambda v: 0 <= v <= 600,
    "span": lambda v: 0 <= v[0] < v[1] <= 600,
    "zoom_x": lambda v: 1.0 <= v <= 4.0,
    "volume": lambda v: 0 <= v <= 2.0,
    "size": lambda v: 8 <= v <= 400,
    "fade": lambda v: v[1] is None or 0 < v[1] <= 60,
    "transition": lambda v: v[1] is None or 0 <= v[1] <= 60,
}


def is_usable(token: Token) -> bool:
    """Whether the token's value is one an action can hold."""
    check = _USABLE.get(token.kind)
    return check is None or bool(check(token.value))
