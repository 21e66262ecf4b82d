"""The phrase rules' trigger words: derived again from the phrases, and never hiding a match (a rule skipped
for want of a trigger word would change what a prompt is read as)."""

from __future__ import annotations

import re
from re import _constants as constants  # type: ignore[attr-defined]
from re import _parser as parser  # type: ignore[attr-defined]
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from joypix_recipes.timeline.interpret.leftovers import KNOWN_PHRASES
from joypix_recipes.timeline.interpret.normalization import normalize, split_sentences
from joypix_recipes.timeline.interpret.rules import RULES, TRIGGERS, Token, find_tokens

_LARGEST_SET = 12
"""Alternatives spelled out at most, beyond which a shorter word shared by them stands for them."""

Strings = set[str] | None


def _cross(left: Strings, right: Strings) -> Strings:
    if left is None or right is None:
        return None
    joined = {first + second for first in left for second in right}
    return joined if len(joined) <= _LARGEST_SET else None


def _best(candidates: list[Strings]) -> Strings:
    usable = [candidate for candidate in candidates if candidate and "" not in candidate]
    if not usable:
        return None
    return max(usable, key=lambda words: (min(map(len, words)), -len(words)))


def _sequence(items: Any) -> tuple[Strings, Strings]:
    """Every text the sequence matches (None: too many), and words one of which each match contains."""
    exact: Strings = {""}
    run: Strings = {""}
    candidates: list[Strings] = []
    for operator, argument in items:
        item_exact, item_required = _item(operator, argument)
        exact = _cross(exact, item_exact)
        if item_exact is not None:
            longer = _cross(run, item_exact)
            if longer is None:
                candidates.append(run)
                run = item_exact
            else:
                run = longer
        else:
            candidates += [run, item_required]
            run = {""}
    candidates += [run, exact]
    return exact, _best(candidates)


def _item(operator: Any, argument: Any) -> tuple[Strings, Strings]:
    if operator is constants.LITERAL:
        return {chr(argument)}, {chr(argument)}
    if operator is constants.IN:
        characters: set[str] = set()
        for kind, value in argument:
            if kind is constants.LITERAL:
                characters.add(chr(value))
            elif kind is constants.RANGE and value[1] - value[0] < _LARGEST_SET:
                characters.update(chr(code) for code in range(value[0], value[1] + 1))
            else:
                return None, None
        return characters, characters
    if operator is constants.SUBPATTERN:
        return _sequence(argument[-1])
    if operator is constants.BRANCH:
        branches = [_sequence(branch) for branch in argument[1]]
        exact: Strings = set()
        required: Strings = set()
        for branch_exact, branch_required in branches:
            exact = None if exact is None or branch_exact is None else exact | branch_exact
            required = None if required is None or branch_required is None else required | branch_required
        return (exact if exact is not None and len(exact) <= _LARGEST_SET else None), required
    if operator in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT):
        least, most, inner = argument
        inner_exact, inner_required = _sequence(inner)
        if least == 0:
            return (inner_exact | {""} if most == 1 and inner_exact is not None else None), None
        return (inner_exact if least == most == 1 else None), inner_required
    if operator in (constants.AT, constants.ASSERT, constants.ASSERT_NOT):
        return {""}, None  # zero-width: adds nothing to the matched text
    return None, None


def _minimal(words: set[str]) -> tuple[str, ...]:
    """The words without those containing another of them (a sentence holding the longer holds the shorter)."""
    kept: list[str] = []
    for word in sorted(words, key=lambda word: (len(word), word)):
        if not any(shorter in word for shorter in kept):
            kept.append(word)
    return tuple(sorted(kept))


def _derived(source: str) -> tuple[str, ...] | None:
    _, required = _sequence(parser.parse(source))
    return None if required is None else _minimal(required)


def _every_rule(sentence: str) -> list[Token]:
    """find_tokens as it was before trigger words: every rule tried on every sentence."""
    found = []
    for order, rule in enumerate(RULES):
        for match in re.compile(rule.source).finditer(sentence):
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


def test_trigger_words_are_those_the_phrases_require() -> None:
    derived = [_derived(rule.source) for rule in RULES]
    table = "\n".join(f"    {words!r},  # {rule.kind}" for rule, words in zip(RULES, derived, strict=True))
    assert [TRIGGERS[rule] for rule in RULES] == derived, f"paste into rules.py's _TRIGGERS:\n{table}"


def test_every_rule_has_trigger_words() -> None:
    assert sum(TRIGGERS[rule] is None for rule in RULES) == 0


_SAMPLES = (
    *KNOWN_PHRASES,
    'make a 5-second vertical video with a slow zoom-in and add the title "Summer Sale" at the top for the first 3 seconds',
    "pan from left to right, 1.3x zoom, smoothly, over a blurred copy of itself, 720p, music at 35% fading out",
    "dolly out steadily; crop to fill the frame; 4x5 feed post; join the photos with 0.5s crossfades",
    "fade in 0.3 seconds, fade to black, no fades out, hard cuts between images, slides-up transition of 2 seconds",
    "play the 3 uploaded photos in the order they were uploaded; tilting downwards; size 48 px; from 1s to 4s",
    "添加背景音乐，音量 30%，1秒淡入淡出，向左平移，竖屏 标题「夏日」在顶部",
    "keep the camera still, at half volume, throughout, until the end of the clip, font size 64, static shot",
)


def _sentences(text: str) -> list[str]:
    return [sentence for _, sentence in split_sentences(normalize(text)[0])]


def test_trigger_words_hide_no_match_in_sample_prompts() -> None:
    for text in _SAMPLES:
        for sentence in _sentences(text):
            assert find_tokens(sentence) == _every_rule(sentence), sentence


_WORDS = sorted({word for phrase in _SAMPLES for word in re.split(r"[\s,;]+", phrase.lower()) if word})


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_WORDS) | st.text(alphabet="abdeilnoprstuxz0123456789-:% ", max_size=8), max_size=12))
def test_trigger_words_hide_no_match_in_any_sentence(words: list[str]) -> None:
    sentence = " ".join(words).lower()
    assert find_tokens(sentence) == _every_rule(sentence)
