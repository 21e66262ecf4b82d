"""The words and phrases the interpreter knows, as regular-expression fragments, and what some of them mean.

Fragments carry no word boundaries (the rules add them) and see lower-cased, NFKC-normalized text.
"""

from __future__ import annotations

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


# --- numbers and seconds -----------------------------------------------------------------------------

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip


def capture_number(name: str) -> str:
    """A fragment capturing, as group ``name``, a number written in digits or as a word."""
    return rf"(?P<{name}>\d+(?:\.\d+)?|{'|'.join(NUMBER_WORDS)})"


def parse_number(text: str) -> float:
    """The value of a number ``capture_number`` matched."""
    return float(NUMBER_WORDS[text]) if text in NUMBER_WORDS else float(text)


SECONDS = r"(?:\s*-?\s*(?:seconds?|secs?|s)(?![a-z0-9])|\s*秒钟?)"

# --- the camera: motions, their strength and easing, and the frame ------------------------------------

_PAN = r"pan(?:s|ning)?"
_NOT_AN_INPUT = r"(?!\s+(?:photos?|images?|pictures?|shots?|of))"  # "a portrait photo" describes the input
MOTIONS: dict[str, tuple[str, ...]] = {
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
STRENGTHS: dict[str, float] = {
    "subtle": 1.1, "subtly": 1.1, "slight": 1.1, "slightly": 1.1, "gentle": 1.1, "gently": 1.1,
    "slow": 1.25, "slowly": 1.25, "缓慢": 1.25, "慢慢": 1.25, "轻微": 1.1,
    "dramatic": 1.5, "dramatically": 1.5, "strong": 1.5, "strongly": 1.5, "intense": 1.5, "强烈": 1.5,
}  # fmt: skip
ZOOM_FACTOR = r"(?P<z>\d+(?:\.\d+)?)\s*x(?![a-z0-9])(?:\s+zoom(?![a-z0-9])(?!\s*-?\s*(?:in|out)(?![a-z])))?"
EASINGS: dict[str, tuple[str, ...]] = {
    "ease-in-out": (r"smooth(?:ly)?", r"ease[- ]in[- ](?:and[- ])?out", r"eased", "平滑", "流畅"),
    "linear": (r"linear(?:ly)?", r"constant\s+speed", r"steady", "匀速"),
}
BLURRED_FILL = (
    r"(?:(?:over|on|with)\s+)?(?:a\s+)?blur(?:red)?(?:\s+(?:copy(?:\s+of\s+itself)?|background|backdrop|fill|edges))?"
)
COVER_FILL = r"crop(?:ped)?\s+to\s+fill(?:\s+the\s+frame)?|fill(?:ing)?\s+the\s+frame"
ASPECTS: dict[str, tuple[str, ...]] = {
    "4:5": (r"4\s*[:x/]\s*5", r"feed\s+portrait", r"instagram\s+feed", r"feed\s+post"),
    "9:16": (r"9\s*[:x/]\s*16", r"vertical(?:ly)?", r"portrait" + _NOT_AN_INPUT + r"(?:\s+(?:mode|orientation|format|video))?",
             r"reels?", r"tik\s?tok", r"stories", r"story", r"(?:youtube\s+)?shorts", "竖屏", "竖版"),
    "16:9": (r"16\s*[:x/]\s*9", r"horizontal(?:ly)?", r"landscape" + _NOT_AN_INPUT + r"(?:\s+(?:mode|orientation|format|video))?",
             r"wide\s*screen", r"youtube", "横屏", "横版"),
    "1:1": (r"1\s*[:x/]\s*1", r"square", "正方形", "方形"),
}  # fmt: skip
RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "1080p": (r"1080\s*p", r"full\s*hd", r"fhd"),
    "720p": (r"720\s*p", r"hd"),
    "480p": (r"480\s*p", r"sd"),
}

# --- texts: the words that name one, where it sits, when it shows, its size --------------------------

TEXT_WORD = r"(?P<w>title|headline|heading|caption|subtitle|text|label|banner)s?|(?P<z>标题|字幕|文字)"
TEXT_KINDS = {"title": "top", "headline": "top", "heading": "top", "标题": "top"}
"""Text words that place their text at the top unless a position is stated (the rest default to the bottom)."""

POSITION = (
    r"(?:(?:at|on|in|to)\s+)?(?:the\s+)?(?P<p>top|bottom|center|centre|middle|upper\s+third|lower\s+third)(?:\s+of\s+the\s+(?:screen|frame|video|image|clip))?"
    r"|(?P<c>centered|centred)|(?P<zt>顶部|上方)|(?P<zb>底部|下方)|(?P<zc>居中|中间)"
)
SIZE = rf"(?:(?:at|in)\s+)?(?:font\s+|text\s+)?size\s+{capture_number('n')}(?:\s*(?:px|pixels?))?|{capture_number('n2')}\s*-?\s*(?:px|pixels?)"
SPAN = (
    rf"(?:from|between)\s+{capture_number('a')}\s*(?:s|secs?|seconds?)?\s*(?:to|until|till|and|-)\s*{capture_number('b')}{SECONDS}"
    rf"|{capture_number('a2')}\s*(?:-|to)\s*{capture_number('b2')}{SECONDS}"
)
FIRST_SECONDS = rf"(?:for|during|in)\s+the\s+first\s+{capture_number('n')}{SECONDS}"
FOR_SECONDS = rf"for\s+(?:a\s+|about\s+)?{capture_number('n')}{SECONDS}"
FROM_SECONDS = rf"(?:from|starting\s+(?:at|from)|after)\s+{capture_number('n')}{SECONDS}"
TO_THE_END = (
    r"(?:until|till|to|through)\s+the\s+end(?:\s+of\s+the\s+(?:clip|video))?"
    r"|for\s+the\s+(?:whole|entire)\s+(?:clip|video|time)|throughout|the\s+whole\s+time"
)
DURATION = rf"{capture_number('n')}{SECONDS}(?:[- ]long)?"

# --- sound, fades and what joins the images ----------------------------------------------------------

MUSIC = (
    r"(?:(?P<style>lo-?fi|upbeat|calm|chill|ambient|relaxing|cinematic|epic|happy|soft|piano|acoustic|electronic|jazz|energetic)\s+)*"
    r"(?:background\s+|bg\s+)?(?P<noun>music|soundtrack|song|track|bgm|audio|tune)|背景音乐|音乐|配乐"
)
ADDING = r"(?:add|adding|with|put|play|include|insert|plus|use|using)"
"""Words before "music" that ask for a track, where "the music at 20%" means the one already there."""
ADDING_CJK = "添加|加上|配上"
PERCENT_VOLUME = rf"(?:(?:at|to|with)\s+)?(?:a\s+)?(?:volume\s+(?:of\s+|at\s+|to\s+)?|音量\s*)?{capture_number('n')}\s*%(?:\s*(?:volume|vol))?"
WORDED_VOLUME = r"(?:at\s+)?(?P<h>half|full)\s+volume"
NO_FADE = r"(?:no|without|remove\s+the|remove)\s+(?:any\s+)?fades?(?:[- ]?(?P<dir>in|out))?"
FADE = (
    rf"(?:{capture_number('d1')}{SECONDS}\s+)?fade(?:s|d)?(?:[- ]?(?P<dir>in\s*(?:and|&|/)\s*out|in|out|up|down))?"
    r"(?:\s+(?P<black>from|to)\s+black)?(?:\s+(?:the\s+)?(?P<target>music|audio|sound|soundtrack|song|video|picture|image))?"
    r"(?:\s+(?P<dir2>in|out))?"
    # "fade in over 2 seconds", and as often without the preposition: "fade in 0.3 seconds".
    rf"(?:\s+(?:(?:over|for|of|lasting|in)\s+)?(?:a\s+)?{capture_number('d2')}{SECONDS})?"
)
FADE_CJK = rf"(?:{capture_number('d1')}\s*秒钟?(?:的)?)?(?P<dir>淡入淡出|淡入|淡出)"
_IMAGES = r"(?:the\s+|each\s+|all\s+(?:the\s+)?)?(?:images|photos|pictures|clips|shots)"
TRANSITION = (
    rf"(?:(?:join|link|connect)\s+{_IMAGES}\s+with\s+)?(?:(?:a|an)\s+)?(?:{capture_number('d')}{SECONDS}\s+)?"
    r"(?:(?P<cross>cross[- ]?fades?|cross[- ]?dissolves?|dissolves?)|(?P<dip>dips?[- ]to[- ]black)"
    r"|(?P<slide>slides?)[- ](?P<sd>left|right|up|down)|(?P<wipe>wipes?)[- ](?P<wd>left|right)|(?P<zoom>zoom(?=\s+transition)))"
    r"(?:\s+transitions?)?"
    rf"(?:\s+between\s+{_IMAGES})?(?:\s+(?:of|lasting|over)\s+{capture_number('d2')}{SECONDS})?"
)
NO_TRANSITION = rf"(?:cut\s+between\s+{_IMAGES}\s+with\s+)?no\s+transitions?|hard\s+cuts?(?:\s+between\s+{_IMAGES})?"
SEQUENCE = (
    r"(?:play|put|show|use|combine)\s+(?:the\s+|all\s+(?:the\s+)?)?(?:\d+\s+)?(?:uploaded\s+)?(?:images|photos|pictures)"
    r"\s+(?:one\s+after\s+another\s+)?in\s+the\s+order\s+(?:they\s+were\s+uploaded|of\s+upload)"
)

# --- filler: words that ask for nothing in particular ------------------------------------------------

FILLER = frozenset(
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
