"""Prompt text -> edit actions: a small rule-based reader of the everyday phrases people ask the cloud agent.

The local backend and the emulator share it. It reads each sentence left to right: phrase rules find
durations, motions, titles, music, fades and sizes; what no rule and no filler word covers is unknown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from joypix_recipes.job.actions import BUILTIN_MUSIC, Action, Animate, Audio, Fade, Reframe, Text, Transition

ZOOM_WORDS: dict[str, float] = {"subtle": 1.1, "slow": 1.25, "dramatic": 1.5}
"""Zoom strength words and the zoom they mean; ``slow`` is the default, so "a slow zoom-in" is ``Animate()``."""

DEFAULT_FADE_S = 1.0
"""A fade with no stated length ("fade in and out") lasts this long."""

_VOCABULARY = (
    'durations ("5-second", "10s", "3 seconds"); motions (zoom in, slow push in, zoom out, pull back, '
    "pan left/right/up/down, tilt up/down, Ken Burns, static); strength (subtle, slow, dramatic, 1.3x); "
    "easing (smooth, linear); blurred background; aspect (vertical/9:16/reels, square/1:1, "
    "horizontal/16:9/youtube, 4:5); resolution (1080p, 720p, 480p, HD); titles and captions in quotes "
    '(at the top/center/bottom, "for the first 3 seconds", "from 0s to 3s"); background music '
    '(lo-fi music or "music.mp3", "at 35%"); fades ("fade in", "fade out", "1-second fade"); between images '
    '("0.5-second crossfades", dip to black, slide/wipe left or right, zoom transitions, no transitions)'
)


def vocabulary() -> str:
    """One line listing the phrases the interpreter understands, for error messages."""
    return _VOCABULARY


@dataclass(frozen=True)
class Interpretation:
    """What a prompt asks for, and the words in it that were not understood.

    ``given[i]`` names the fields of ``actions[i]`` the text actually stated ("make it 10 seconds"
    states only ``duration``); pass it to ``edit.apply_action(..., fields=...)`` to keep the rest.
    """

    actions: tuple[Action, ...]
    unknown: tuple[str, ...]
    given: tuple[frozenset[str], ...] = ()


def interpret_prompt(text: str) -> Interpretation:
    """Read a prompt into actions; never raises, whatever the text."""
    normalized, quotes = _normalize(text)
    reading = _Reading(quotes)
    position = 0
    for end in [match.start() for match in _SENTENCE_END.finditer(normalized)] + [len(normalized)]:
        if normalized[position:end].strip():
            reading.read_sentence(normalized[position:end], position)
        position = end + 1
    return reading.result()


# --- normalization: quotes and file names are lifted out before the rest is lower-cased -------------

_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」|『([^』]*)』|‘([^’]*)’|(?<!\w)\'([^\']+)\'(?!\w)')
_AUDIO_FILE = re.compile(r"(?<![\w./\\-])([\w./\\-]+\.(?:mp3|wav|m4a|aac|ogg|flac))(?![\w])", re.IGNORECASE)
_AUDIO_SUFFIX = re.compile(r"[^\s./\\]\.(?:mp3|wav|m4a|aac|ogg|flac)$", re.IGNORECASE)  # a name, not a bare extension
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_SENTENCE_END = re.compile(r"(?:[!?。！？;；\n]|\.(?!\d))+")


@dataclass(frozen=True)
class _Quote:
    content: str
    is_file: bool  # an unquoted file name, or a quote that names an audio file


def _normalize(text: str) -> tuple[str, list[_Quote]]:
    quotes: list[_Quote] = []
    pieces: list[str] = []
    position = 0
    for match in _QUOTED.finditer(text):
        pieces.append(_normalize_plain(text[position : match.start()], quotes))
        content = next(group for group in match.groups() if group is not None)
        quotes.append(_Quote(content, bool(_AUDIO_SUFFIX.search(content.strip()))))
        pieces.append(f" {_MARK_OPEN}{len(quotes) - 1}{_MARK_CLOSE} ")
        position = match.end()
    pieces.append(_normalize_plain(text[position:], quotes))
    return "".join(pieces), quotes


def _normalize_plain(text: str, quotes: list[_Quote]) -> str:
    text = text.replace(_MARK_OPEN, " ").replace(_MARK_CLOSE, " ")

    def lift(match: re.Match[str]) -> str:
        quotes.append(_Quote(match.group(1), True))
        return f" {_MARK_OPEN}{len(quotes) - 1}{_MARK_CLOSE} "

    text = _AUDIO_FILE.sub(lift, text)
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("–", "-").replace("—", "-").replace("\u00a0", " ")


# --- phrase rules ------------------------------------------------------------------------------------

_B = r"(?<![a-z0-9\ue000])"
_E = r"(?![a-z0-9])"
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip


def _num(name: str) -> str:
    return rf"(?P<{name}>\d+(?:\.\d+)?|{'|'.join(_NUMBER_WORDS)})"


_SECS = r"(?:\s*-?\s*(?:seconds?|secs?|s)(?![a-z0-9])|\s*秒钟?)"
_TEXT_KINDS = {"title": "top", "headline": "top", "heading": "top", "标题": "top"}

_PAN = r"pan(?:s|ning)?"
_NOT_AN_INPUT = r"(?!\s+(?:photos?|images?|pictures?|shots?|of))"  # "a portrait photo" describes the input
_MOTIONS: dict[str, tuple[str, ...]] = {
    "zoom-in": (r"zoom(?:s|ing)?(?:[- ]?in(?:to)?)?", r"push(?:es|ing)?[- ]?in", r"dolly[- ]?in", r"move\s+(?:in|closer)",
                "放大", "推近", "推进"),
    "zoom-out": (r"zoom(?:s|ing)?[- ]?out", r"pull(?:s|ing)?[- ]?(?:back|out)", r"dolly[- ]?out", r"move\s+away",
                 "缩小", "拉远"),
    "pan-left": (_PAN + r"[- ]?(?:to\s+the\s+)?left(?:wards?)?", _PAN + r"\s+from\s+(?:the\s+)?right\s+to\s+(?:the\s+)?left",
                 "向左平移", "向左移动", "左移"),
    "pan-right": (_PAN + r"[- ]?(?:to\s+the\s+)?right(?:wards?)?", _PAN + r"\s+from\s+(?:the\s+)?left\s+to\s+(?:the\s+)?right",
                  "向右平移", "向右移动", "右移"),
    "pan-up": (r"(?:pan|tilt)(?:s|ning|ing)?[- ]?up(?:wards?)?", "向上平移", "向上移动", "上移"),
    "pan-down": (r"(?:pan|tilt)(?:s|ning|ing)?[- ]?down(?:wards?)?", "向下平移", "向下移动", "下移"),
    "ken-burns": (r"ken[- ]?burns(?:\s+(?:effect|move|style))?",),
    "none": (r"static(?:\s+shot|\s+camera)?", r"no\s+(?:camera\s+)?(?:motion|movement)",
             r"without\s+(?:any\s+)?(?:camera\s+)?(?:motion|movement)",
             r"keep\s+(?:it|the\s+(?:camera|image|photo|picture|shot))\s+still", r"still\s+camera", "静止", "不动"),
}  # fmt: skip
_STRENGTHS: dict[str, float] = {
    "subtle": 1.1, "subtly": 1.1, "slight": 1.1, "slightly": 1.1, "gentle": 1.1, "gently": 1.1,
    "slow": 1.25, "slowly": 1.25, "缓慢": 1.25, "慢慢": 1.25, "轻微": 1.1,
    "dramatic": 1.5, "dramatically": 1.5, "strong": 1.5, "strongly": 1.5, "intense": 1.5, "强烈": 1.5,
}  # fmt: skip
_ASPECTS: dict[str, tuple[str, ...]] = {
    "4:5": (r"4\s*[:x/]\s*5", r"feed\s+portrait", r"instagram\s+feed", r"feed\s+post"),
    "9:16": (r"9\s*[:x/]\s*16", r"vertical(?:ly)?", r"portrait" + _NOT_AN_INPUT + r"(?:\s+(?:mode|orientation|format|video))?",
             r"reels?", r"tik\s?tok", r"stories", r"story", r"(?:youtube\s+)?shorts", "竖屏", "竖版"),
    "16:9": (r"16\s*[:x/]\s*9", r"horizontal(?:ly)?", r"landscape" + _NOT_AN_INPUT + r"(?:\s+(?:mode|orientation|format|video))?",
             r"wide\s*screen", r"youtube", "横屏", "横版"),
    "1:1": (r"1\s*[:x/]\s*1", r"square", "正方形", "方形"),
}  # fmt: skip
_RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "1080p": (r"1080\s*p", r"full\s*hd", r"fhd"),
    "720p": (r"720\s*p", r"hd"),
    "480p": (r"480\s*p", r"sd"),
}
_EASINGS: dict[str, tuple[str, ...]] = {
    "ease-in-out": (r"smooth(?:ly)?", r"ease[- ]in[- ](?:and[- ])?out", r"eased", "平滑", "流畅"),
    "linear": (r"linear(?:ly)?", r"constant\s+speed", r"steady", "匀速"),
}
_MUSIC = (
    r"(?:(?P<style>lo-?fi|upbeat|calm|chill|ambient|relaxing|cinematic|epic|happy|soft|piano|acoustic|electronic|jazz|energetic)\s+)*"
    r"(?:background\s+|bg\s+)?(?P<noun>music|soundtrack|song|track|bgm|audio|tune)|背景音乐|音乐|配乐"
)
_IMAGES = r"(?:the\s+|each\s+|all\s+(?:the\s+)?)?(?:images|photos|pictures|clips|shots)"
_TRANSITION = (
    rf"(?:(?:join|link|connect)\s+{_IMAGES}\s+with\s+)?(?:(?:a|an)\s+)?(?:{_num('d')}{_SECS}\s+)?"
    r"(?:(?P<cross>cross[- ]?fades?|cross[- ]?dissolves?|dissolves?)|(?P<dip>dips?[- ]to[- ]black)"
    r"|(?P<slide>slides?)[- ](?P<sd>left|right|up|down)|(?P<wipe>wipes?)[- ](?P<wd>left|right)|(?P<zoom>zoom(?=\s+transition)))"
    r"(?:\s+transitions?)?"
    rf"(?:\s+between\s+{_IMAGES})?(?:\s+(?:of|lasting|over)\s+{_num('d2')}{_SECS})?"
)
_NO_TRANSITION = rf"(?:cut\s+between\s+{_IMAGES}\s+with\s+)?no\s+transitions?|hard\s+cuts?(?:\s+between\s+{_IMAGES})?"
_SEQUENCE = (
    r"(?:play|put|show|use|combine)\s+(?:the\s+|all\s+(?:the\s+)?)?(?:\d+\s+)?(?:uploaded\s+)?(?:images|photos|pictures)"
    r"\s+(?:one\s+after\s+another\s+)?in\s+the\s+order\s+(?:they\s+were\s+uploaded|of\s+upload)"
)
_FADE = (
    rf"(?:{_num('d1')}{_SECS}\s+)?fade(?:s|d)?(?:[- ]?(?P<dir>in\s*(?:and|&|/)\s*out|in|out|up|down))?"
    r"(?:\s+(?P<black>from|to)\s+black)?(?:\s+(?:the\s+)?(?P<target>music|audio|sound|soundtrack|song|video|picture|image))?"
    r"(?:\s+(?P<dir2>in|out))?"
    rf"(?:\s+(?:over|for|of|lasting|in)\s+(?:a\s+)?{_num('d2')}{_SECS})?"
)


@dataclass(frozen=True)
class _Token:
    kind: str
    start: int
    end: int
    text: str
    value: Any = None


def _alternatives(table: dict[str, tuple[str, ...]]) -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(_B + f"(?:{'|'.join(patterns)})" + _E)) for name, patterns in table.items()]


_Rule = tuple[str, re.Pattern[str], Callable[[re.Match[str]], Any]]


def _rules() -> list[_Rule]:
    rules: list[_Rule] = []

    def add(kind: str, pattern: str, value: Callable[[re.Match[str]], Any] = lambda m: None) -> None:
        rules.append((kind, re.compile(_B + f"(?:{pattern})" + _E), value))

    add("quote", rf"{_MARK_OPEN}(?P<q>\d+){_MARK_CLOSE}", lambda m: int(m.group("q")))
    add("span", rf"(?:from|between)\s+{_num('a')}\s*(?:s|secs?|seconds?)?\s*(?:to|until|till|and|-)\s*{_num('b')}{_SECS}"
        rf"|{_num('a2')}\s*(?:-|to)\s*{_num('b2')}{_SECS}",
        lambda m: (_number(m.group("a") or m.group("a2")), _number(m.group("b") or m.group("b2"))))  # fmt: skip
    add("first", rf"(?:for|during|in)\s+the\s+first\s+{_num('n')}{_SECS}", lambda m: _number(m.group("n")))
    add("for", rf"for\s+(?:a\s+|about\s+)?{_num('n')}{_SECS}", lambda m: _number(m.group("n")))
    add("start", rf"(?:from|starting\s+(?:at|from)|after)\s+{_num('n')}{_SECS}", lambda m: _number(m.group("n")))
    add("to_end", r"(?:until|till|to|through)\s+the\s+end(?:\s+of\s+the\s+(?:clip|video))?"
        r"|for\s+the\s+(?:whole|entire)\s+(?:clip|video|time)|throughout|the\s+whole\s+time")  # fmt: skip
    add("duration", rf"{_num('n')}{_SECS}(?:[- ]long)?", lambda m: _number(m.group("n")))
    add("position", r"(?:(?:at|on|in|to)\s+)?(?:the\s+)?(?P<p>top|bottom|center|centre|middle|upper\s+third|lower\s+third)(?:\s+of\s+the\s+(?:screen|frame|video|image|clip))?"
        r"|(?P<c>centered|centred)|(?P<zt>顶部|上方)|(?P<zb>底部|下方)|(?P<zc>居中|中间)", _position)  # fmt: skip
    add("size", rf"(?:(?:at|in)\s+)?(?:font\s+|text\s+)?size\s+{_num('n')}(?:\s*(?:px|pixels?))?|{_num('n2')}\s*-?\s*(?:px|pixels?)",
        lambda m: _number(m.group("n") or m.group("n2")))  # fmt: skip
    add("text_word", r"(?P<w>title|headline|heading|caption|subtitle|text|label|banner)s?|(?P<z>标题|字幕|文字)",
        lambda m: m.group("w") or m.group("z"))  # fmt: skip
    add("volume", rf"(?:(?:at|to|with)\s+)?(?:a\s+)?(?:volume\s+(?:of\s+|at\s+|to\s+)?|音量\s*)?{_num('n')}\s*%(?:\s*(?:volume|vol))?",
        lambda m: _number(m.group("n")) / 100)  # fmt: skip
    add("volume", r"(?:at\s+)?(?P<h>half|full)\s+volume", lambda m: 0.5 if m.group("h") == "half" else 1.0)
    add("no_fade", r"(?:no|without|remove\s+the|remove)\s+(?:any\s+)?fades?(?:[- ]?(?P<dir>in|out))?",
        lambda m: m.group("dir") or "both")  # fmt: skip
    add("fade", _FADE, _fade_value)
    add("fade", rf"(?:{_num('d1')}\s*秒钟?(?:的)?)?(?P<dir>淡入淡出|淡入|淡出)", _fade_value)
    add("music", _MUSIC, lambda m: m.group("style"))
    add("transition", _TRANSITION, _transition_value)
    add("transition", _NO_TRANSITION, lambda m: ("none", 0.0))
    add("sequence", _SEQUENCE)
    add("zoom_x", r"(?P<z>\d+(?:\.\d+)?)\s*x(?![a-z0-9])(?:\s+zoom(?![a-z0-9])(?!\s*-?\s*(?:in|out)(?![a-z])))?",
        lambda m: float(m.group("z")))  # fmt: skip
    add("strength", "|".join(_STRENGTHS), lambda m: _STRENGTHS[m.group(0)])
    for kind, table in (("motion", _MOTIONS), ("aspect", _ASPECTS), ("resolution", _RESOLUTIONS), ("easing", _EASINGS)):
        for name, pattern in _alternatives(table):
            rules.append((kind, pattern, lambda m, name=name: name))  # type: ignore[misc]
    add("fit", r"(?:(?:over|on|with)\s+)?(?:a\s+)?blur(?:red)?(?:\s+(?:copy(?:\s+of\s+itself)?|background|backdrop|fill|edges))?",
        lambda m: "blur")  # fmt: skip
    add("fit", r"crop(?:ped)?\s+to\s+fill(?:\s+the\s+frame)?|fill(?:ing)?\s+the\s+frame", lambda m: "cover")
    return rules


def _number(text: str) -> float:
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text)


def _position(match: re.Match[str]) -> str:
    word = " ".join((match.group("p") or match.group("c") or "").split())
    if word in ("top", "upper third") or match.group("zt"):
        return "top"
    if word in ("bottom", "lower third") or match.group("zb"):
        return "bottom"
    return "center"


def _transition_value(match: re.Match[str]) -> tuple[str, float | None]:
    seconds = match.group("d") or match.group("d2")
    length = None if seconds is None else _number(seconds)
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
    return direction, None if seconds is None else _number(seconds), where


_RULES = _rules()


def _tokens(sentence: str) -> list[_Token]:
    """Leftmost-longest, non-overlapping phrase matches (rule order breaks ties)."""
    found: list[tuple[int, int, int, _Token]] = []
    for order, (kind, pattern, value) in enumerate(_RULES):
        for match in pattern.finditer(sentence):
            if match.end() > match.start():
                token = _Token(kind, match.start(), match.end(), match.group(0), value(match))
                found.append((match.start(), -match.end(), order, token))
    chosen: list[_Token] = []
    reached = 0
    for start, _, _, token in sorted(found, key=lambda item: item[:3]):
        if start >= reached:
            chosen.append(token)
            reached = token.end
    return chosen


# --- reading: tokens -> actions, with a subject (video, the music, or a text) per sentence --------------

_FILLER = frozenset(
    """a an the this that these those it its it's this's image images photo photos picture pictures pic pics still
    video videos clip clips movie film animation animate animated animating make makes making turn turning convert
    converting create generate render produce into to from in on at of for with and then also plus please pls kindly
    can could would will you i me my we our us want like need give add adding put place include apply use using set
    setting short quick simple social media creator creators post posts mp4 file output export download version one
    single product or as be is are so just only very about around long length duration resolution aspect ratio
    format frame size camera motion move movement effect shot some portrait landscape over by keep current reframe
    easing fill background copy itself whole entire time end thanks thank there here now let's lets get show
    display overlay write instagram facebook mode orientation pace speed type font volume style while lasting
    each every between
    请 把 这 张 在 为 到 导出 下载 图片 照片 做成 生成 转换 转成 一个 一段 的 视频 动画 添加 加上 加 和 并 然后 效果 镜头 秒钟""".split()
)
_CJK_FILLER = sorted((word for word in _FILLER if not word.isascii()), key=len, reverse=True)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_RUN_BREAK = re.compile(r"[,:()\[\]{}，、：（）]")

_VALID: dict[str, Callable[[Any], bool]] = {
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


def _valid(token: _Token) -> bool:
    check = _VALID.get(token.kind)
    return check is None or bool(check(token.value))


@dataclass
class _TextDraft:
    content: str
    kind: str | None = None
    position: str | None = None
    start: float = 0.0
    end: float | None = None
    length: float | None = None
    size: float | None = None

    def apply(self, token: _Token) -> None:
        if token.kind == "position":
            self.position = token.value
        elif token.kind == "first":
            self.start, self.end = 0.0, token.value
        elif token.kind == "span":
            self.start, self.end = token.value
        elif token.kind == "start":
            self.start = token.value
        elif token.kind == "to_end":
            self.end, self.length = None, None
        elif token.kind == "for":
            self.length = token.value
        elif token.kind == "size":
            self.size = token.value

    def action(self) -> Text:
        position = self.position or _TEXT_KINDS.get(self.kind or "", "bottom")
        end = self.start + self.length if self.length is not None else self.end
        if end is not None and end <= self.start:
            end = None
        size = self.size or Text.size
        return Text(content=self.content, position=position, start=self.start, end=end, size=size)  # type: ignore[arg-type]


_ADDING = re.compile(_B + r"(?:add|adding|with|put|play|include|insert|plus|use|using)" + _E + "|添加|加上|配上")
_TEXT_MODIFIERS = frozenset({"position", "first", "span", "start", "to_end", "for", "size"})
_TEXT_ONLY = frozenset({"position", "first", "span", "start", "size"})


@dataclass
class _Reading:
    quotes: list[_Quote]
    animate: dict[str, Any] = field(default_factory=dict)
    fade: dict[str, float] = field(default_factory=dict)
    audio: dict[str, Any] = field(default_factory=dict)
    reframe: dict[str, str] = field(default_factory=dict)
    transition: dict[str, Any] = field(default_factory=dict)
    texts: list[_TextDraft] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    offset: int = 0

    def read_sentence(self, sentence: str, offset: int) -> None:
        self.offset = offset
        tokens = _tokens(sentence)
        has_audio = any(token.kind == "music" or self._is_audio_quote(token, None) for token in tokens)
        subject: str | _TextDraft = "video"
        pending: list[_Token] = []
        text_word: _Token | None = None
        previous: _Token | None = None
        for token in tokens:
            kind = token.kind
            if not _valid(token):
                self._report(token)  # a phrase we know, with a value we cannot use ("0 seconds", "900%")
            elif kind == "quote":
                quote = self.quotes[token.value]
                if self._is_audio_quote(token, previous):
                    self.audio["file"] = quote.content
                    subject = "audio"
                elif quote.content.strip():
                    subject = _TextDraft(quote.content, kind=text_word.value if text_word else None)
                    text_word = None
                    for early in pending:
                        subject.apply(early)
                    pending = []
                    self.texts.append(subject)
            elif kind == "text_word":
                if isinstance(subject, _TextDraft) and subject.kind is None:
                    subject.kind = token.value  # 'add "Sale" as the title'
                else:
                    self._report(text_word)
                    text_word = token
            elif kind in _TEXT_MODIFIERS and isinstance(subject, _TextDraft):
                subject.apply(token)
            elif kind in _TEXT_ONLY or (kind == "to_end" and text_word is not None):
                pending.append(token)
            elif kind == "music":
                subject = "audio"
                self._music(token, sentence)
            elif kind == "volume":
                if subject == "audio" or has_audio:
                    self.audio["volume"] = token.value
                else:
                    self._report(token)
            elif kind in ("fade", "no_fade"):
                self._fade(token, to_audio=subject == "audio")
            elif kind == "transition":
                transition_kind, seconds = token.value
                self.transition = {"kind": transition_kind} if seconds is None else {"kind": transition_kind, "duration": seconds}
            elif kind == "sequence":
                pass  # images already play in the order they were added
            else:
                if kind in ("motion", "strength", "zoom_x", "easing", "fit", "duration", "for"):
                    subject = "video"
                self._video(token)
            previous = token
        for token in pending:
            self._report(token)
        self._report(text_word)
        self._leftovers(sentence, tokens)

    def _is_audio_quote(self, token: _Token, previous: _Token | None) -> bool:
        if token.kind != "quote":
            return False
        return self.quotes[token.value].is_file or (previous is not None and previous.kind == "music")

    def _music(self, token: _Token, sentence: str) -> None:
        # "add lo-fi music" asks for a track; "the music at 20%" or "music volume" means the one already there.
        if token.value or _ADDING.search(sentence[: token.start]):
            self.audio.setdefault("file", BUILTIN_MUSIC)

    def _fade(self, token: _Token, to_audio: bool) -> None:
        if token.kind == "no_fade":
            sides = ("in", "out") if token.value == "both" else (token.value,)
            seconds: float = 0.0
            target = self.audio if to_audio else self.fade
        else:
            direction, length, where = token.value
            sides = ("in", "out") if direction == "both" else (direction,)
            seconds = DEFAULT_FADE_S if length is None else length
            target = self.audio if (where or ("audio" if to_audio else "video")) == "audio" else self.fade
        for side in sides:
            target[f"fade_{side}"] = seconds

    def _video(self, token: _Token) -> None:
        kind, value = token.kind, token.value
        if kind == "motion":
            self.animate["motion"] = value
        elif kind in ("strength", "zoom_x"):
            self.animate["zoom"] = value
        elif kind == "easing":
            self.animate["easing"] = value
        elif kind == "fit":
            self.animate["fit"] = value
        elif kind in ("duration", "for"):
            self.animate["duration"] = value
        elif kind == "aspect":
            self.reframe["aspect"] = value
        elif kind == "resolution":
            self.reframe["resolution"] = value
        elif kind == "to_end":
            pass  # "until the end" with nothing to end is harmless
        else:
            self._report(token)

    def _report(self, token: _Token | None) -> None:
        if token is not None:
            self.unknown.append((self.offset + token.start, token.text.strip()))

    def _leftovers(self, sentence: str, tokens: list[_Token]) -> None:
        for gap_start, gap_end in _gaps(tokens, len(sentence)):
            for piece_start, piece in _pieces(sentence[gap_start:gap_end]):
                phrase = _unknown_phrase(piece)
                if phrase:
                    self.unknown.append((self.offset + gap_start + piece_start, phrase))

    def result(self) -> Interpretation:
        actions: list[Action] = []
        given: list[frozenset[str]] = []
        if self.reframe:
            actions.append(Reframe(**self.reframe))
            given.append(frozenset(self.reframe))
        if self.animate:
            stated = dict(self.animate)
            if stated.get("motion") == "none":
                stated.setdefault("zoom", Animate.zoom)  # a still shot has no zoom of its own to keep
            actions.append(Animate(**stated))
            given.append(frozenset(stated))
        if self.fade:
            actions.append(Fade(**self.fade))
            given.append(frozenset(self.fade))
        if self.transition:
            actions.append(Transition(**self.transition))
            given.append(frozenset(self.transition))
        audio = dict(self.audio)
        if audio:
            actions.append(Audio(**{"file": BUILTIN_MUSIC, **audio}))
            given.append(frozenset(audio))
        for text in self.texts:
            actions.append(text.action())
            given.append(frozenset({"content", "position", "start", "end", "size"}))
        unknown = tuple(phrase for _, phrase in sorted(self.unknown))
        return Interpretation(tuple(actions), unknown, tuple(given))


def _gaps(tokens: list[_Token], length: int) -> Iterator[tuple[int, int]]:
    position = 0
    for token in tokens:
        if token.start > position:
            yield position, token.start
        position = token.end
    if position < length:
        yield position, length


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    position = 0
    for match in _RUN_BREAK.finditer(text):
        yield position, text[position : match.start()]
        position = match.end()
    yield position, text[position:]


def _unknown_phrase(piece: str) -> str:
    """The words of a gap that are not filler, trimmed of filler at both ends ("make it look better" -> "look better")."""
    for word in _CJK_FILLER:
        piece = piece.replace(word, " ")
    words = _WORD.findall(piece)
    meaningful = [index for index, word in enumerate(words) if word.replace("’", "'") not in _FILLER]
    if not meaningful:
        return ""
    return " ".join(words[meaningful[0] : meaningful[-1] + 1])
