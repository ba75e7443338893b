"""Cleaning of scraped Chinese web text.

Source documents arrive as copied web pages: document-site boilerplate
(copyright and download notices, "温馨提示" blocks, link lists, comment
widgets), inline pinyin annotations such as ``當(dāng)``, Traditional
characters, half-width punctuation and slide-deck debris. ``clean_text`` turns
such a page into plain Simplified Chinese prose with one structural unit per
line, ready for chunking. Each step is its own function so it can be tested
alone.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK}]")

# ---------------------------------------------------------------- pinyin ---

_TONE_MAP = str.maketrans(
    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ",
    "aaaaeeeeiiiioooouuuuvvvvvnnnm",
)
_PINYIN_SYLLABLE = re.compile(
    r"^(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iong|uang|iang|ueng|iao|ian|uai|uan|van|ong|ang|eng|ing|iu|ie|ve|ue|ui|un|vn|uo|ua|ia|"
    r"ai|ei|ao|ou|an|en|in|er|a|o|e|i|u|v)"
    r"(?:n|ng|r)?$"
)
# A CJK character immediately followed by a parenthesised latin syllable.
_PINYIN_ANNOTATION = re.compile(
    rf"([{CJK}])\s?[(（]\s*([a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{{1,7}})\s*[)）]"
)


_TONED_ANNOTATION = re.compile(
    r"[(（]([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][a-zü]*)[)）]"
)
_PINYIN_REMNANT = re.compile(r"[?？]([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7})[)）]")


def _is_pinyin(word: str) -> bool:
    return bool(_PINYIN_SYLLABLE.match(word.lower().translate(_TONE_MAP)))


def strip_pinyin(text: str) -> str:
    """Remove inline pinyin annotations: ``當(dāng)`` -> ``當``.

    Only parenthesised words that are valid pinyin syllables and follow a
    Chinese character are removed, so ``(www.x.com)`` or ``(API)`` survive.
    """

    def repl(m: re.Match) -> str:
        return m.group(1) if _is_pinyin(m.group(2)) else m.group(0)

    text = _PINYIN_ANNOTATION.sub(repl, text)

    def remnant(m: re.Match) -> str:
        return "" if _is_pinyin(m.group(1)) else m.group(0)

    # Mangled pages keep only "?shù)" where the character was lost.
    text = _PINYIN_REMNANT.sub(remnant, text)

    def toned(m: re.Match) -> str:
        return "" if _is_pinyin(m.group(1)) else m.group(0)

    # Tone marks are unambiguous: "(shù)" after mojibake goes too.
    return _TONED_ANNOTATION.sub(toned, text)


# ----------------------------------------------------- traditional chinese ---


@lru_cache(maxsize=1)
def _t2s():
    from opencc_purepy import OpenCC  # lazy: builds dictionaries on first use

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t():
    from opencc_purepy import OpenCC  # lazy: builds dictionaries on first use

    return OpenCC("s2t")


@lru_cache(maxsize=16384)  # per character: buyer messages repeat the same few thousand
def _traditional_only(ch: str) -> bool:
    """A character only Traditional writes (買, 換): Simplified has another one, and it is no Simplified form
    itself. The second test matters: the t2s tables turn some Simplified words the wrong way (结束 → 結束)."""
    return _t2s().convert(ch) != ch and _s2t().convert(ch) == ch


def is_traditional(text: str) -> bool:
    """Did the writer use Traditional characters? (At least two Traditional-only ones, and a tenth of the
    Chinese characters: one shared variant in a long Simplified message does not count.)"""
    cjk = _CJK_RE.findall(text)
    if len(cjk) < 2:
        return False
    marked = sum(1 for c in cjk if _traditional_only(c))
    return marked >= 2 and marked / len(cjk) >= 0.1


def simplify_buyer_text(text: str) -> str:
    """A buyer's text in Simplified for analysis, retrieval and the rules: converted only when it is Traditional,
    and no character the buyer already wrote in Simplified is changed; written Cantonese is put in Mandarin words
    (「插咗部手機冇反應」 → 「插了部手机没反应」)."""
    if not is_traditional(text):
        # a stray Traditional character in a Simplified message (「貨收到喇」) is read in Simplified too
        return _mandarin("".join(_t2s().convert(c) if _traditional_only(c) else c for c in text))
    converted = _t2s().convert(text)
    if len(converted) != len(text):
        return _mandarin(converted)
    return _mandarin("".join(a if _s2t().convert(a) != a else b for a, b in zip(text, converted)))


# written Cantonese (Hong Kong buyers) → Mandarin, longest first; applied only to a text with Cantonese markers
_CANTONESE = [
    ("点算", "怎么办"), ("點算", "怎么办"), ("点解", "为什么"), ("點解", "为什么"), ("几时", "什么时候"), ("幾時", "什么时候"),
    ("仲未", "还没"), ("而家", "现在"), ("边度", "哪里"), ("邊度", "哪里"), ("落单", "下单"), ("落咗单", "下了单"),
    ("咗", "了"), ("冇", "没"), ("唔", "不"), ("嘅", "的"), ("係", "是"), ("喺", "在"), ("佢", "他"), ("睇", "看"),
    ("啲", "些"), ("嘢", "东西"), ("乜", "什么"), ("嚟", "来"), ("畀", "给"), ("俾", "给"), ("攞", "拿"), ("咁", "这么"),
    ("撳", "按"), ("揿", "按"), ("㗎", ""), ("喎", ""), ("囉", ""), ("啩", ""),
    ("啱啱", "刚刚"), ("食咗", "吃了"), ("饮咗", "喝了"), ("飲咗", "喝了"), ("嗰", "那"), ("𠮶", "那"), ("好痕", "好痒"),
    ("又痕", "又痒"), ("痕到", "痒到"), ("咁痕", "这么痒"), ("红晒", "全红"), ("紅晒", "全红"), ("起晒", "起满"), ("琴日", "昨天"), ("听日", "明天"), ("聽日", "明天"), ("寄唔寄", "寄不寄"),
    ("你哋", "你们"), ("我哋", "我们"), ("佢哋", "他们"), ("哋", "们"), ("收到喇", "收到了"), ("到喇", "到了"), ("好喇", "好了"), ("得喇", "行了"),
    ("肚痾", "拉肚子"), ("肚屙", "拉肚子"), ("肚疴", "拉肚子"), ("疴了", "拉了"), ("屙", "拉"), ("痾", "拉"), ("尋日", "昨天"), ("寻日", "昨天"),
    ("未寄", "还没寄"), ("未发", "还没发"), ("未發", "还没发"), ("未到", "还没到"), ("未收到", "还没收到"), ("都未", "都还没"),
]
_CANTONESE.sort(key=lambda p: -len(p[0]))
_CANTONESE_MARK = re.compile(r"[咗冇唔嘅係喺佢睇啲嘢嚟畀攞㗎喎囉啩嗰𠮶哋喇屙痾疴]|點解|点解|點算|点算|而家|仲未|啱啱|琴日")


def _mandarin(text: str) -> str:
    if not _CANTONESE_MARK.search(text):
        return text
    for a, b in _CANTONESE:
        text = text.replace(a, b)
    return text


def to_traditional(text: str) -> str:
    """Simplified → Traditional, for replies to a buyer who writes Traditional."""
    return _s2t().convert(text) if _CJK_RE.search(text) else text


def to_simplified(text: str, *, min_ratio: float = 0.002) -> str:
    """Convert Traditional to Simplified Chinese when the text is Traditional.

    Detection is by effect: if conversion changes at least ``min_ratio`` of
    the Chinese characters the converted text is used. Already-simplified
    text comes back unchanged, so no stray variant substitutions creep in.
    """
    if not _CJK_RE.search(text):
        return text
    converted = _t2s().convert(text)
    if converted == text:
        return text
    cjk = len(_CJK_RE.findall(text)) or 1
    changed = sum(1 for a, b in zip(text, converted) if a != b)
    return converted if changed / cjk >= min_ratio else text


# ------------------------------------------------------------ punctuation ---

_HALF_TO_FULL = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；", "(": "（", ")": "）"}
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def normalize_punctuation(text: str) -> str:
    """NFKC-fold letters and digits, use full-width punctuation in Chinese text.

    Full-width ASCII (``ＡＢＣ１２３``) becomes half-width so SKUs and sizes
    match; half-width ``,?!:;()`` next to a Chinese character becomes
    full-width; a stray ``.`` ending a Chinese sentence becomes ``。``.
    Whitespace runs collapse to one space and spaces between Chinese
    characters go away.
    """
    text = _ZERO_WIDTH.sub("", text)
    # NFKC would also turn full-width punctuation into ASCII; protect it.
    protected = {c: f"\x00{i}\x00" for i, c in enumerate("，。？！：；（）、《》【】“”‘’…—～①②③④⑤⑥⑦⑧⑨⑩")}
    for c, token in protected.items():
        text = text.replace(c, token)
    text = unicodedata.normalize("NFKC", text)
    for c, token in protected.items():
        text = text.replace(token, c)

    def to_full(m: re.Match) -> str:
        return _HALF_TO_FULL[m.group(0)]

    # half-width punctuation touching a CJK character on either side
    text = re.sub(rf"(?<=[{CJK}])[,?!:;]|[,?!:;](?=[{CJK}])", to_full, text)
    text = re.sub(rf"\((?=[^()]*[{CJK}])([^()]*)\)", r"（\1）", text)
    # "句子结束." -> "句子结束。" (not decimals like 1.5, not list markers like "2.")
    text = re.sub(rf"(?<=[{CJK}])\.(?=\s|$|[{CJK}])", "。", text)
    text = text.replace("...", "…").replace("……", "……")
    text = re.sub(r"[ \t\u3000]+", " ", text)
    text = re.sub(rf"(?<=[{CJK}，。？！：；、（）“”]) (?=[{CJK}，。？！：；、（）“”])", "", text)
    return text


# ------------------------------------------------------------ boilerplate ---

# Whole lines that are site furniture, wherever they appear.
_BOILERPLATE_LINE = [
    r"^(版权说明|版权声明|免责声明|声明)[:：]",
    r"版权归.{0,12}所有",
    r"(若|如)(内容|文档)?(存在|有)?侵权",
    r"侵权必究",
    r"^(文档简介|文章导航|查看更多|延展阅读[:：]?|相关推荐|猜你喜欢|热门文档|上一篇|下一篇)$",
    r"^(咨询方案|免费试用|立即下载|下载文档|收藏|分享|举报)",
    r"点击(这里|此处|下载)",
    r"^想了解更多.*[?？]",
    r"欢迎访问.{0,12}(文档|网|站)",
    r"^(本文标题|链接地址|原文链接|文章来源|来源|作者)[:：]",
    r"本站(所有|不|仅|的|RAR)",
    r"本文档(共|由)",
    r"侵犯(商业秘密|著作权|人身权)|版权申诉|举报电话",
    r"^\d+(\.\d+)?[万亿]?VIP",
    r"VIP精品文档",
    r"^(用户编号|认证主体|IP属地|统一社会信用代码|官方认证|服务提供商|版权声明书)",
    r"^[0-9A-Z]{15,20}$",  # credit codes and similar ids on their own line
    r"^(提交评论|发表评论|评论|文档评论)[（(]?\d*[）)]?$",
    r"^\d+/\d+$",  # "0/150" comment counters
    r"\+ ?关注$",
    r"^专注于.{0,40}(定制|服务)",
    r"^汇报人[:：]",
    r"^图\s?\d+[-－—]\d+",  # figure captions
    r"\.(pptx?|docx?|pdf)$",  # file-name titles of document-site pages
]
_BOILERPLATE_LINE_RE = [re.compile(p) for p in _BOILERPLATE_LINE]

# Heading lines that start a block of furniture (notice lists, link lists).
_BLOCK_START = re.compile(
    r"^(温馨提示|最新文档|相关文档|相关阅读|推荐文档|文档评论|评论|热门推荐|更多推荐)[（(]?\d*[）)]?[:：]?$"
)
# Inline debris removed from otherwise good lines.
_INLINE_DEBRIS = [
    re.compile(r"[（(]\s*(www\.|https?://)[^）)]*[）)]"),
    re.compile(r"https?://\S+"),
    re.compile(r"[（(]如图\s?\d+[-－—]?\d*所示[）)]"),
    re.compile(r"汇报人[:：]\S*?(?=\d{4}-\d{2}-\d{2}|$)\s*(\d{4}-\d{2}-\d{2})?"),
    re.compile(r"CATALOGUE目录"),
]


def _is_boilerplate_line(line: str) -> bool:
    return any(p.search(line) for p in _BOILERPLATE_LINE_RE)


def _is_list_or_short(line: str) -> bool:
    return bool(re.match(r"^([-*•·]|\d+[.、)）]|[（(]?\d+[）)])", line)) or len(line) <= 30


def strip_boilerplate(text: str) -> str:
    """Drop site furniture: notice lines, 温馨提示/最新文档 blocks, comment widgets."""
    out: list[str] = []
    in_block = False
    for raw in text.split("\n"):
        line = raw.strip()
        for p in _INLINE_DEBRIS:
            line = p.sub("", line).strip()
        if not line:
            in_block = False if not out or out[-1] else in_block
            continue
        if _BLOCK_START.match(line):
            in_block = True
            continue
        if in_block and (_is_list_or_short(line) or _is_boilerplate_line(line)):
            continue
        in_block = False
        # numbered notice items such as "1、本文档共27页" are caught by the
        # line patterns after their marker is removed
        bare = re.sub(r"^([-*•·]\s*)?\d+[.、)）]\s*", "", line)
        if _is_boilerplate_line(line) or _is_boilerplate_line(bare):
            continue
        out.append(line)
    return "\n".join(out)


# -------------------------------------------------------------- structure ---

_BOUNDARY = rf"(?<=[{CJK}。！？；”」）):：….])"
# Inline headings in pages that were flattened to one line.
_INLINE_HEADING = re.compile(
    _BOUNDARY
    + r"\s*(?="
    rf"(?<![{CJK}])[一二三四五六七八九十]{{1,3}}、"  # 一、 (not 统一、)
    r"|[（(][一二三四五六七八九十]{1,3}[）)]"  # （一）
    r"|★"
    r"|[①②③④⑤⑥⑦⑧⑨⑩]"
    rf"|\d{{1,2}}\.\d{{1,2}}(?=[{CJK}])"  # 1.1概况与特点 (slide sub-titles)
    rf"|\d{{1,2}}[.、](?=[{CJK}“])"  # 1. / 1、 (not 1.5)
    rf"|[{CJK}]{{2}}型特点[:：]|艺术家特点[:：]"  # 沉默型特点：… persona cards
    r")"
)
_BULLET = re.compile(_BOUNDARY + r"\s*\*(?=[^*\s]{2,12}[:：])")  # *话术要点：
_BOLD_AFTER_NUMBER = re.compile(r"([（(][一二三四五六七八九十]{1,3}[）)])\s*\*\*([^*]{2,40})\*\*")
_BOLD = re.compile(r"\*\*([^*]{2,40})\*\*")


def split_inline_structure(text: str) -> str:
    """Put headings that a flattened page ran together back on their own lines."""
    lines = []
    for line in text.split("\n"):
        line = _BOLD_AFTER_NUMBER.sub(r"\n\1\2\n", line)
        line = _BOLD.sub(r"\n\1\n", line)
        if len(line) > 120:
            line = _BULLET.sub("\n", line)
            line = _INLINE_HEADING.sub("\n", line)
        lines.append(line)
    return "\n".join(lines)


def drop_repeated_headers(text: str, *, min_repeats: int = 3) -> str:
    """Remove slide titles that a flattened deck repeats on every page.

    Lines that share their first characters ``min_repeats`` times or more
    share a repeated title: their longest common prefix. It is kept once, at
    its first occurrence, and cut from the other lines.
    """
    lines = text.split("\n")
    groups: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if re.match(r"^\d{1,2}[.、]", line):
            groups.setdefault(line[:6], []).append(i)
    for idx in groups.values():
        if len(idx) < min_repeats:
            continue
        prefix = lines[idx[0]]
        for i in idx[1:]:
            while not lines[i].startswith(prefix):
                prefix = prefix[:-1]
        if len(prefix) < 5:
            continue
        for i in idx[1:]:
            lines[i] = lines[i][len(prefix):].strip()
    return "\n".join(line for line in lines if line)


def drop_table_of_contents(text: str) -> str:
    """Drop a slide deck's contents line: the later section titles run together."""
    lines = text.split("\n")
    titles = {m.group(1) for line in lines if (m := re.match(rf"^\d{{2}}([{CJK}]{{4,20}})$", line))}
    if len(titles) < 3:
        return text
    out = []
    for line in lines:
        rest = line
        for t in sorted(titles, key=len, reverse=True):
            rest = rest.replace(t, "")
        if len(line) > 12 and len(rest) <= 0.3 * len(line):
            continue
        out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------ entry ---


def clean_text(text: str) -> str:
    """Full cleaning pipeline for a scraped page (see module docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_pinyin(text)
    text = to_simplified(text)
    text = normalize_punctuation(text)
    text = strip_boilerplate(text)
    text = split_inline_structure(text)
    text = drop_repeated_headers(text)
    text = drop_table_of_contents(text)
    text = strip_boilerplate(text)
    lines = [ln.strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


def normalize_light(text: str) -> str:
    """Light normalisation for authored files (catalog, policies, FAQ CSV)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return normalize_punctuation(to_simplified(text)).strip()


_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|`([^`]+)`")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def markdown_to_text(text: str) -> str:
    """A shop's Markdown policy read as sentences: emphasis marks dropped (「**只发韵达**」 → 「只发韵达」) and each
    table row spelled out with its header (「产品线：某产品；换新期：签收N天内；保修期：N个月。」)."""
    out: list[str] = []
    header: list[str] | None = None
    for line in text.split("\n"):
        line = _EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), line)
        s = line.strip()
        if s.startswith("|") and s.count("|") >= 2:
            if _TABLE_RULE.match(s):
                continue
            cells = [c.strip() for c in s.strip("|").split("|")]
            if header is None:
                header = cells
                continue
            pairs = [f"{h}：{c}" if h else c for h, c in zip(header, cells) if c]
            out.append("；".join(pairs) + "。")
            continue
        header = None
        out.append(line)
    return "\n".join(out)
