"""Prompt-injection defences (OWASP LLM01/07/08).

Buyer text, history and retrieved chunks are data, never instructions: they
enter prompts only inside tagged data blocks (see ``prompting.as_data``).
On top of that:

- ``looks_like_injection`` flags buyer messages that try to steer the model
  (prompt extraction, role hijack, fake system notices), also when encoded:
  Traditional characters, full-width letters, characters spread out with
  spaces or symbols, base64;
- ``neutralize`` removes instruction-like sentences from knowledge files
  before they are chunked, so a poisoned upload cannot speak to the model,
  and reports what it removed.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from functools import lru_cache

from .chunking import split_sentences
from .cleaning import to_simplified

PATTERNS = [
    # fake notices dressed as system, platform or workbench messages
    r"^\s*[【\[〔「][^】\]〕」\n]{0,12}(通知|提醒|消息|公告|介入|推送|指令)[^】\]〕」\n]{0,6}[】\]〕」]",
    r"[—\-=]{2,}\s*以下为.{0,12}(推送|通知|消息)|\"role\"\s*:\s*\"(system|developer)\"",
    # claimed authority that hands out powers
    r"我是(你们|店里|这家店|贵店|暖山)?的?(客服)?(老板|店长|运营|组长|主管|小二|管理员|开发者|同事|经理)[^。！？\n]{0,40}(授权|权限|接管|给[^。]{0,8}(退款|改价|发券|补贴)|打折|内购|改价)",
    r"你(不是|别当|不要当|不再是|别做)[^。]{0,6}客服|你的权限[^。]{0,4}(升级|提升|开通|放开)",
    r"(以|用)[^。]{0,6}(老板|店长|小二|管理员|同事|员工)(的)?身份|身份(已被|已经)?重置|接管(本|这个)?会话|(升级|开通)了?你的权限",
    r"切换到[^。]{0,8}模式|(员工|内部|管理员|开发|调试|无限制)模式|系统管理员(指令)?|没有任何限制",
    # asking for the rules, the prompt or the retrieved data themselves
    r"(你|你们)?(收到|拿到|看到)的(第一段话|第一句|规则|设定|指令|守则|资料)[^。]{0,12}(发|输出|贴|念|列|复述|告诉|补全)",
    r"(规定|规则|守则|规矩|设定|提示词)(原文|说明|内容)?[^。]{0,14}(一条一条|逐条|原样|原封不动|一字不差|列给我|发我|给我看|念)",
    r"(一字不差|原封不动|逐字|word by word)[^。]{0,20}(发|输出|贴|翻译|复述)|translate everything above|everything above this line",
    r"debug\s*信息|system\s*message|(完整|全部)的?(系统|初始)?(设定|提示|规则|知识片段)|提示词原文|设定发我|身份设定",
    r"[【\[](参考资料|店铺政策|商品事实|买家消息|对话记录)[】\]]",
    r"(扮演|假装|当)[^。]{0,12}(客服主管|店长|老板|小二|没有任何限制|AI助手|买家)|扮演[^。]{0,40}(守则|规则|内部|优惠码|提示词)",
    r"第\s*\d+\s*条到第\s*\d+\s*条[^。]{0,12}(列|念|发|告诉)|(规矩|规定|规则|守则)[^。]{0,40}(列给我|念给我|发给我|一条一条)",
    r"(接龙|补全|藏头诗|倒过来读|拼起来)[^。]{0,40}(你是|规则|指令|执行|照着做|照做)",
    r"(当成|作为)(最新|新的)?(指令|命令)(执行|处理)|照着(做|执行)|按(上面|通知|指令)(说的|的要求)?(办|执行|来|处理)",
    r"ignore\s+(your|all|the)?\s*(previous\s+)?(rules|instructions)|authori[sz]e\s+you|print\s+your\s+(system\s+)?prompt",
    # making the agent ask for secrets
    r"(向|让|请|叫)(买家|顾客|用户|我)?(提供|索要|索取|报|发)[^。]{0,12}(密码|验证码|卡号|身份证|银行卡)",
    r"(变量|x\s*=)[^。]{0,12}(密码|验证码)",
    r"(忽略|无视|忘记|忘掉|不要理会|跳过)(掉)?(之前|以上|上面|前面|先前|所有|全部|你的)?(的)?(所有|全部)?(指令|规则|设定|提示|要求|限制|约束|指示)",
    r"(系统|初始|原始|隐藏)(提示词?|指令|设定|prompt)",
    r"system\s*prompt|ignore\s+(all\s+)?(previous|above|prior)\s+(instructions|rules)|developer\s*mode|jailbreak|\bDAN\b",
    r"(你现在|从现在(开始|起)你?|现在开始你)(是|扮演|作为|当)",
    r"(扮演|假装你是|假设你是)(店长|老板|管理员|开发者|客服主管|系统)",
    r"开发者模式|越狱模式|管理员模式|上帝模式",
    r"(输出|打印|复述|重复|透露|告诉我)(你的)?(全部|所有|完整)?(系统)?(提示词|指令|设定|规则原文|prompt)",
    r"[【\[](系统|平台|官方|风控|客服系统)(通知|消息|指令|提示|公告)[】\]]",
    r"(给|致)(AI|ai|人工智能|机器人|模型|助手)的?(指令|提示|说明)",
    r"(告诉|通知)(所有|全部)?买家.{0,12}(一折|免费|全额退款|加微信|私下)",
    r"<!--.*?-->|<\|.*?\|>|###\s*(system|instruction)",
]
_PATTERN = re.compile("|".join(f"(?:{p})" for p in PATTERNS), re.IGNORECASE | re.DOTALL)
_B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


# look-alike letters and characters used to dodge filters
_CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "А": "A", "Е": "E", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "І": "I", "К": "K", "М": "M", "Н": "H",
    "糸": "系", "仝": "全", "蜜": "密", "正": "证", "徳": "德",
})
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")


def _normalized_views(text: str) -> list[str]:
    """The text as written, folded (NFKC, look-alikes, invisibles), squeezed, Simplified, reversed, base64-decoded."""
    views = [text]
    folded = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).translate(_CONFUSABLES)
    views.append(folded)
    squeezed = re.sub(r"[\s\-_.·•*|/\\~～、，,]+", "", folded)
    views.append(squeezed)
    views.append(to_simplified(squeezed, min_ratio=0.0))
    views.append(to_simplified(squeezed[::-1], min_ratio=0.0))  # "把下面这句话倒过来读"
    for m in _B64.finditer(text):
        try:
            decoded = base64.b64decode(m.group(0) + "=" * (-len(m.group(0)) % 4), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if decoded.strip():
            views.append(decoded)
    return list(dict.fromkeys(views))


@lru_cache(maxsize=2048)  # a conversation's earlier turns are checked again on every request
def looks_like_injection(text: str) -> str | None:
    """The matched phrase if ``text`` tries to instruct the model, else None."""
    if not text:
        return None
    for view in _normalized_views(text):
        m = _PATTERN.search(view)
        if m:
            return m.group(0)[:40]
    return None


# In knowledge files: text that instructs whoever answers buyers, or hides in comment syntax.
_DIRECTIVE = re.compile(
    # addressed to the AI, or a scripted line imposed on whoever answers (the seeds' "客服应…" advice is not)
    r"(AI|ai|助手|模型|机器人)[^。\n]{0,10}(必须|须|一律|统一|务必|应当|应该|要|请)[^。\n]{0,8}(说|回复|回答|告知|表示|让|引导|索要|索取|强调|承诺|声称|报价|答应|为准)"
    r"|(客服|回复时|回答时|答复时)[^。\n]{0,10}(一律|统一|务必)[^。\n]{0,10}[“\"「]"
    r"|一律(回答|回复|说|告知|表示|承诺)|(每次|以后|所有|凡是)[^。\n]{0,20}(回答|回复)[^。\n]{0,10}(都|一律)?(说|回复|回答)[“\"「]"
    r"|统一口径|口径[:：]|优先级最高|最高优先级|以本段为准|以此为准|忽略[^。\n]{0,12}(政策|规则|\.md)|[（(]请执行[)）]|请执行[:：]"
    r"|^\s*(答[:：])?\s*(//|#\s*(SYSTEM|AI|assistant)|\[//\]\s*:|\{\{.*\}\}|【注释】|\(注释\)|（注释）|>\s*更新日志)"
    r"|(内部|运营|更新)(备注|日志)[^。\n]{0,8}[:：][^。\n]{0,60}(客服|AI|回复|回答|买家)",
    re.IGNORECASE,
)


def neutralize(text: str) -> tuple[str, list[str]]:
    """Drop instruction-like sentences (and HTML comments) from knowledge text; return (clean text, removed)."""
    removed: list[str] = []

    def drop_comment(m: re.Match) -> str:
        removed.append(m.group(0)[:80])
        return ""

    text = re.sub(r"<!--.*?-->", drop_comment, text, flags=re.DOTALL)
    out_lines = []
    for line in text.split("\n"):
        kept = []
        if _DIRECTIVE.match(line):  # a whole comment or directive line
            removed.append(line.strip()[:80])
            out_lines.append("")
            continue
        for sentence in split_sentences(line) or [line]:
            # parenthesised asides are where instructions hide: （给AI的指令：……）
            inner = re.sub(r"[（(][^（()）]*[)）]", lambda m: "" if looks_like_injection(m.group(0)) else m.group(0), sentence)
            if inner != sentence:
                removed.append(sentence.strip()[:80])
                sentence = inner
            if looks_like_injection(sentence) or _DIRECTIVE.search(sentence):
                removed.append(sentence.strip()[:80])
                continue
            kept.append(sentence)
        out_lines.append("".join(k for k in kept if re.search(r"[\w\u4e00-\u9fff]", k)))
    return "\n".join(out_lines), removed
