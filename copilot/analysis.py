"""Reading the buyer: persona, sales stage, emotion and intent.

The embedded default, ``OfflineAnalyzer``, is explainable and works offline.
For the persona it combines four kinds of evidence over the whole
conversation (the newest message counts most):

- cue words from each persona's ``signals.keywords``;
- a character n-gram naive-Bayes model trained on each persona's exemplars;
- similarity to the exemplars under the configured embedder;
- conversation shape: only one- or two-word replies (沉默型), long rambling
  turns (唠叨型), repeated haggling (杀价型), shouting (暴躁型).

Stage, emotion and intent come from ordered Chinese cue patterns, with the
history deciding whether the buyer has already ordered or received the goods.
Every decision lists the signals that fired.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from .embedders import Embedder
from .personas import PERSONA_IDS, Persona, check_persona_id
from .safety import looks_like_injection

Stage = Literal["pre_sale", "in_sale", "after_sale"]
Emotion = Literal["angry", "anxious", "neutral", "positive"]
STAGE_LABELS = {"pre_sale": "售前", "in_sale": "售中", "after_sale": "售后"}
EMOTION_LABELS = {"angry": "生气", "anxious": "着急/担心", "neutral": "平静", "positive": "愉快"}


class Turn(BaseModel):
    role: Literal["buyer", "agent"]
    text: str = Field(max_length=2000)


def format_history(turns: Sequence[Turn]) -> str:
    """A conversation as 买家：… / 客服：… lines (for prompts and the judge)."""
    return "\n".join(f"{'买家' if t.role == 'buyer' else '客服'}：{t.text}" for t in turns)


class PersonaGuess(BaseModel):
    id: str
    label: str
    confidence: float
    signals: list[str] = Field(default_factory=list)
    overridden: bool = False


class Analysis(BaseModel):
    persona: PersonaGuess
    stage: Stage
    emotion: Emotion
    intent: str
    intent_label: str = ""
    alternatives: list[PersonaGuess] = Field(default_factory=list, description="next most likely personas")
    stage_signals: list[str] = Field(default_factory=list)
    emotion_signals: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list, description="skus the buyer names")
    scam: bool = Field(default=False, description="the buyer reports or forwards a likely scam (fake notice, code request)")
    injection: str | None = Field(default=None, description="the phrase by which the message tries to instruct the model")


class Analyzer(ABC):
    """Reads a conversation; the agent may override the persona."""

    name: str = "analyzer"

    @abstractmethod
    def analyze(
        self, message: str, history: Sequence[Turn] = (), *, sku: str | None = None, persona: str | None = None
    ) -> Analysis:
        """Analyse the newest buyer ``message`` given earlier ``history``."""


# ------------------------------------------------------------------ intent ---

# (intent id, 中文, pattern) — first match wins, so specific needs come first.
INTENTS: list[tuple[str, str, str]] = [
    ("damaged_wrong", "破损/错发/漏发", r"破损|压坏|摔坏|碎了|漏液|发错|错发|少发|漏发|少了一|不是我买的|颜色不对|发成"),
    ("quality_complaint", "质量问题", r"质量|开线|起球|掉色|褪色|钻绒|跑绒|异味|味道大|开胶|坏了|不亮|充不进|断了|破洞|过敏|起痘|刺痛|泛红|不保温|漏水|线头|瑕疵|脏了|污渍"),
    ("refund", "退款", r"退款|退钱|钱什么时候|钱还没|钱到账|赔偿|补偿|赔我"),
    ("return_exchange", "退换货", r"退货|退换|换货|换个?码|换一件|换一双|能退|可以退|退了|能换|可以换|换吗|七天无理由|7天无理由|不想要了|换大|换小|买大了|买小了"),
    ("address_change", "修改地址", r"改地址|地址(写|填)?错|换地址|修改地址|改收货|改个?电话"),
    ("logistics", "物流进度", r"到哪了?|物流|单号|没收到|还没到|几天到|多久到|什么时候到|派送|快递员|驿站|丰巢|签收"),
    ("shipping", "发货", r"发货|发了吗|什么时候发|啥时候发|多久发|当天发|今天发|发顺丰|发什么快递|哪家快递|包邮|运费|邮费|偏远"),
    ("payment", "付款", r"付款|付不了|支付|花呗|信用卡|分期|货到付款|拍了|拍下|下单了?没付|催付"),
    ("invoice", "发票", r"发票|开票|抬头|税号"),
    ("review", "评价", r"好评|差评|评价|晒图|返现"),
    ("authenticity", "正品", r"正品|假货|假的|真的吗|真假|山寨|高仿|授权|专柜|验货|防伪"),
    ("stock", "库存", r"有货|有没有货|现货|没货|缺货|补货|售罄|库存|还有吗|到货"),
    ("promotion", "优惠活动", r"优惠|活动|券|满减|打折|折扣|赠品|送什么|半价|双12|双十二|秒杀|直降"),
    ("price", "价格", r"便宜|多少钱|价格|贵|抹零|砍价|降价|差价|价保|少点|改价|最低|便宜点|\d+\s*(块|元)?\s*(行|卖|可以)吗?"),
    ("size", "尺码", r"尺码|码数|多大码|什么码|啥码|哪个码|选码|[SMLX]{1,3}码|[SMLX]{1,3}号|身高|体重|\d+\s*斤|\d+\s*kg|脚长|鞋码|偏大|偏小|大了|小了|合身|胸围|衣长"),
    ("usage", "使用方法/适用", r"怎么用|用法|敏感肌|孕妇|孕期|哺乳|能用吗|适合|防水|游泳|续航|充电|兼容|苹果|安卓|机洗|怎么洗|清洗|保质期|成分|多久用|敷多久|能不能穿|冷不冷|保暖"),
    ("recommendation", "推荐", r"推荐|哪款|哪个好|选哪|什么好|有什么|新品|随便看看|送人|礼物|搭配"),
    ("product_info", "参数规格", r"参数|规格|材质|面料|含绒量|充绒量|重量|多重|尺寸|多大|容量|区别|对比|蓬松度|克重|功能|支持|颜色|色差"),
    ("greeting", "打招呼", r"^(在吗|在不在|有人吗|你好|您好|hello|hi|亲|客服)[？?！!。\s]*$"),
]
INTENT_LABELS = {i: label for i, label, _ in INTENTS} | {"other": "其他"}
_INTENT_RE = [(i, re.compile(p, re.IGNORECASE)) for i, _, p in INTENTS]


def detect_intent(text: str) -> str:
    for intent, pattern in _INTENT_RE:
        if pattern.search(text):
            return intent
    return "other"


# ------------------------------------------------------------------- stage ---

# The goods are in the buyer's hands: receipt, use, defects, returns of what arrived.
_RECEIVED = re.compile(
    r"收到(了|货|的|啦|咯)(?!.{0,3}(吗|没|呢|我怎么))|签收|到货了|拆开(了|后|一看)|打开(一看|发现|后)|"
    r"穿了|用了(?!.{0,3}(吗|对吧))|用完|用过了|敷了|敷完|戴了|洗了|洗过|试了|试穿了|喝了|充了|充满|实际(用|只|才)|"
    r"破(了|损|洞)|压坏|碎了|漏液|发错|错发|少发|漏发|发成|给我发(了|成)?.{0,6}(的|过来)|怎么发(了|成)(个|一)|"
    r"坏了|不保温|起球了|开线|掉毛了|掉色了|褪色了|钻绒|跑绒|开胶|底噪|有杂音|过敏了|泛红了|有点红|起痘|刺痛|有异味|线头(好|太|很)?多|"
    r"质量(太|真|也|有)|退货|换货|换(小|大)一?码|我要退|想退|要退了|退差价|申请售后|售后|差评|中评|追评|好评|晒图|补发|寄回|退回|返修|"
    r"买大了|买小了|不合身|收货后|签收后|跟新的一样|吊牌剪"
)
# Ordered but not yet received.
_NOT_RECEIVED = re.compile(
    r"还没(发货?|到|收到|寄)|没发货|未发货|先别发|不要发|能先不发|暂时别发|别发了|不发(货|我)?|发了没|发货(了)?(吗|没)|"
    r"没收到|还没到|没到货|刚付|付完款|付了款|刚拍|刚下单|刚买的|刚付款|(改|修改|换)(个|一下)?(收货)?地址|地址(写|填)错"
)
_ORDERED = re.compile(
    r"(已经|昨天|前天|今天|上午|下午|早上|刚刚)?(下单了|下单啦|拍了|拍下了|付款了|付了)(?!.{0,2}吗)|已经下单|订单|单号|物流|快递员|驿站|派送|"
    r"到哪了?|待付款|没付|付不了|付款失败|催(一下|发)|发顺丰|走顺丰|换顺丰"
)
_BUY_LATER = re.compile(
    r"(就|马上|直接|再|才|立马|现在)(拍|下单|买)|够的话|要是|如果|万一|假如|想买|准备买|打算|考虑|"
    r"还剩|有货吗|有没有货|支持.{0,8}吗|到时候|收到后|收到货后"
)


def _received(text: str) -> re.Match | None:
    m = None
    for cand in _RECEIVED.finditer(text):
        # "之前在别家买的穿两次就起球了": someone else's goods, told as background
        if re.search(r"之前|上次|以前|别家|别的店|其他家", text[max(0, cand.start() - 14) : cand.start()]):
            continue
        m = cand
        break
    if m is None:
        return None
    # "收到后能退吗" / "如果不合适能退吗" ask about the future, before buying
    if _BUY_LATER.search(text) and not re.search(r"收到了|签收|穿了|用了|敷了|戴了|洗了|破|坏|发错|少发|漏发|发成|我要退", text):
        return None
    return m


def detect_stage(message: str, history: Sequence[Turn]) -> tuple[str, list[str]]:
    """Newest strong evidence wins; earlier turns tell whether the goods were ordered or received."""
    m = _NOT_RECEIVED.search(message)
    if m and not re.search(r"收到了|签收|穿了|用了|敷了|戴了|洗了", message):
        return "in_sale", [f"已下单、还没收到：「{m.group(0)}」"]
    m = _received(message)
    if m:
        return "after_sale", [f"已收货或在售后：「{m.group(0)}」"]
    buyer_hist = [t.text for t in history if t.role == "buyer"]
    for text in reversed(buyer_hist):
        r = _received(text)
        if r:
            return "after_sale", [f"之前提到已收货/售后：「{r.group(0)}」"]
    m = _ORDERED.search(message)
    if m and not _BUY_LATER.search(message):
        return "in_sale", [f"已下单：「{m.group(0)}」"]
    for turn in reversed(history):
        if turn.role == "buyer":
            o = _NOT_RECEIVED.search(turn.text) or (_ORDERED.search(turn.text) if not _BUY_LATER.search(turn.text) else None)
        else:
            o = re.search(r"已(经)?(为您)?发(货|出)|单号|物流显示|已打包|已出库|包裹", turn.text)
        if o:
            return "in_sale", [f"对话中已下单：「{o.group(0)}」"]
    return "pre_sale", ["尚未下单：咨询、比较或议价"]


# ----------------------------------------------------------------- emotion ---

_ANGRY = re.compile(
    r"[！!]{2,}|[？?]{3,}|气死|什么破|破东西|垃圾|坑人|骗子|投诉|12315|差评|太过分|受够|烦死|什么态度|无语|搞什么|"
    r"凭什么|有病|恶心|退钱|赔我|不要脸|黑店|还不发|到底|滚"
)
_ANXIOUS = re.compile(
    r"着急|急用|急着|急死|赶时间|赶紧|能不能快|快点|尽快|担心|怕|万一|会不会|靠谱吗|放心吗|安全吗|还没到|怎么还没|出差要用|"
    r"明天要用|来得及|赶得上|等着用|慌|焦虑|没收到|不会是"
)
_POSITIVE = re.compile(r"谢谢|感谢|多谢|好的呀|好哒|喜欢|满意|很好|不错|好评|哈哈|棒|赞|开心|太好了|辛苦了|麻烦你了|爱了")


def detect_emotion(message: str, history: Sequence[Turn]) -> tuple[str, list[str]]:
    recent = [t.text for t in history if t.role == "buyer"][-1:]
    m = _ANGRY.search(message)
    if m and not re.search(r"不会给差评|不给差评|不差评", message):
        return "angry", [f"激动/不满：「{m.group(0)}」"]
    m = _ANXIOUS.search(message)
    if m:
        return "anxious", [f"着急/担心：「{m.group(0)}」"]
    m = _POSITIVE.search(message)
    if m:
        return "positive", [f"友好/满意：「{m.group(0)}」"]
    if recent and _ANGRY.search(recent[0]) and len(message) < 12:
        return "angry", ["上一条消息仍在生气"]
    return "neutral", []


# ----------------------------------------------------------------- persona ---

_PUNCT = re.compile(r"[\s，。？！?!,.、：:；;~～…「」“”\"'（）()]+")
_HAGGLE = re.compile(
    r"便宜|少点|少一点|抹零|抹个零|打个?折|优惠点|再减|砍|最低|底价|包邮呗|送点|送个|别家|人家才|\d{2,4}\s*(块|元)?\s*(行不行|卖不卖|可以吗|行吗|就拍|拍了)|"
    r"一口价|能不能再|再便宜"
)


def _grams(text: str) -> list[str]:
    t = _PUNCT.sub(" ", text.lower())
    chars = [c for c in t if not c.isspace()]
    return chars + [a + b for a, b in zip(chars, chars[1:])] + (["<short>"] if len(chars) <= 6 else [])


class _NaiveBayes:
    """Multinomial naive Bayes over character 1-2-grams, trained on persona exemplars."""

    def __init__(self, docs: dict[str, list[str]], alpha: float = 0.5) -> None:
        self.labels = list(docs)
        self.counts = {p: Counter(g for d in ds for g in _grams(d)) for p, ds in docs.items()}
        self.totals = {p: sum(c.values()) for p, c in self.counts.items()}
        self.vocab = len(set().union(*self.counts.values())) or 1
        self.alpha = alpha
        # log P(gram | persona) for seen grams, and the floor for unseen ones
        self.unseen = np.array([math.log(alpha / (self.totals[p] + alpha * self.vocab)) for p in self.labels])
        self.table: dict[str, np.ndarray] = {}
        for g in set().union(*self.counts.values()):
            self.table[g] = np.array([
                math.log((self.counts[p][g] + alpha) / (self.totals[p] + alpha * self.vocab)) for p in self.labels
            ])

    def log_probs(self, text: str) -> np.ndarray:
        grams = _grams(text)
        out = np.zeros(len(self.labels))
        for g in grams:
            out += self.table.get(g, self.unseen)
        return out / max(len(grams), 1)


def _softmax(x: np.ndarray, temp: float) -> np.ndarray:
    z = (x - x.max()) / temp
    e = np.exp(z)
    return e / e.sum()


class PersonaWeights(BaseModel):
    """How the evidence is combined (tuned on evals/dialogues, tested on evals/analysis.jsonl)."""

    keywords: float = 1.5
    naive_bayes: float = 1.0
    exemplars: float = 1.0
    shape: float = 1.0
    history: float = 0.8  # weight of earlier buyer turns relative to the newest message
    nb_temp: float = 0.08
    knn_temp: float = 0.03
    kw_temp: float = 0.5


# the buyer reports or forwards a likely scam: fake notices, someone posing as the shop, requests for codes
SCAM_REPORT = re.compile(
    r"【.{0,6}(通知|提醒)】|系统通知|冒充|(要|让)我?.{0,6}(验证码|密码|卡号)|发了链接|加.{0,3}微信.{0,6}(退款|理赔|赔)|"
    r"(打电话|来电|短信|发消息).{0,8}(说是|自称).{0,6}(客服|店|你们)|自称.{0,4}(客服|店家|店主|你们)|说.{0,10}(账户|账号|资金).{0,4}冻结"
)


class OfflineAnalyzer(Analyzer):
    """Explainable, offline analyzer (see module docstring)."""

    name = "offline"

    def __init__(
        self,
        personas: dict[str, Persona],
        embedder: Embedder | None = None,
        weights: PersonaWeights | None = None,
        product_matcher=None,
    ) -> None:
        self.personas = personas
        self.ids = [p for p in PERSONA_IDS if p in personas]
        self.weights = weights or PersonaWeights()
        self.embedder = embedder
        self.products = product_matcher
        docs = {p: list(personas[p].exemplars) + list(personas[p].signals.keywords) for p in self.ids}
        self.nb = _NaiveBayes(docs)
        # keyword specificity: a cue shared by several personas says less
        df = Counter(k for p in self.ids for k in set(personas[p].signals.keywords))
        self.keywords = {p: [(k, 1.0 / df[k]) for k in personas[p].signals.keywords if k] for p in self.ids}
        self._ex_owner: np.ndarray | None = None
        self._ex_vecs: np.ndarray | None = None
        self._ex_text: list[str] = []
        if embedder is not None:
            texts, owner = [], []
            for i, p in enumerate(self.ids):
                for e in personas[p].exemplars:
                    texts.append(e)
                    owner.append(i)
            if texts:
                self._ex_vecs = embedder.embed_documents(texts)
                self._ex_owner = np.array(owner)
                self._ex_text = texts

    # evidence ---------------------------------------------------------------

    def _keyword_scores(self, texts: list[tuple[str, float]]) -> tuple[np.ndarray, dict[str, list[str]]]:
        scores = np.zeros(len(self.ids))
        fired: dict[str, list[str]] = {}
        for i, p in enumerate(self.ids):
            for kw, spec in self.keywords[p]:
                for text, w in texts:
                    if kw in text:
                        scores[i] += spec * w
                        fired.setdefault(p, [])
                        if kw not in fired[p]:
                            fired[p].append(kw)
        return scores, fired

    def _exemplar_scores(self, text: str) -> tuple[np.ndarray, dict[str, str]]:
        if self._ex_vecs is None or self.embedder is None:
            return np.zeros(len(self.ids)), {}
        sims = self._ex_vecs @ self.embedder.embed_query(text)
        scores = np.zeros(len(self.ids))
        nearest: dict[str, str] = {}
        for i, p in enumerate(self.ids):
            s = sims[self._ex_owner == i]
            if len(s):
                top = np.sort(s)[-3:]
                scores[i] = float(top.mean())
                j = int(np.argmax(np.where(self._ex_owner == i, sims, -9)))
                nearest[p] = f"{self._ex_text[j]}（相似度 {sims[j]:.2f}）"
        return scores, nearest

    def _shape(self, buyer: list[str]) -> tuple[np.ndarray, dict[str, str]]:
        scores = np.zeros(len(self.ids))
        why: dict[str, str] = {}
        idx = {p: i for i, p in enumerate(self.ids)}
        lengths = [len(_PUNCT.sub("", t)) for t in buyer]
        if lengths and max(lengths) <= 6:
            scores[idx["silent"]] += 1.0 + 0.3 * (len(lengths) - 1)
            why["silent"] = f"{len(lengths)} 条消息都只有几个字"
        elif lengths and len(lengths) >= 2 and sum(1 for n in lengths if n <= 6) >= len(lengths) - 1:
            scores[idx["silent"]] += 0.6
            why["silent"] = "多数回复只有几个字"
        if lengths and (np.mean(lengths) >= 45 or max(lengths) >= 70):
            scores[idx["chatty"]] += 0.8
            why["chatty"] = f"消息很长（平均 {np.mean(lengths):.0f} 字）"
        haggles = sum(1 for t in buyer if _HAGGLE.search(t))
        if haggles >= 2:
            scores[idx["bargainer"]] += 0.6 * haggles
            why["bargainer"] = f"{haggles} 次议价"
        shouts = sum(len(re.findall(r"[！!]{2,}|[？?]{3,}", t)) for t in buyer)
        if shouts:
            scores[idx["angry"]] += 0.5 * min(shouts, 3)
            why["angry"] = "连续感叹号/问号"
        if any(re.search(r"(^|\s)[1-9][.、）)]|①|第一.{0,10}第二|参数|对比", t) for t in buyer):
            scores[idx["analytical"]] += 0.5
            why["analytical"] = "逐条列问题/要参数对比"
        return scores, why

    # public -----------------------------------------------------------------

    def persona_scores(self, message: str, history: Sequence[Turn]) -> tuple[np.ndarray, list[list[str]]]:
        w = self.weights
        buyer_hist = [t.text for t in history if t.role == "buyer"]
        texts = [(t, w.history) for t in buyer_hist[-5:]] + [(message, 1.0)]
        kw, fired = self._keyword_scores(texts)
        joined = "\n".join([*buyer_hist[-3:], message])
        nb = self.nb.log_probs(message) + w.history * (self.nb.log_probs(joined) if buyer_hist else 0)
        knn, nearest = self._exemplar_scores(joined if buyer_hist else message)
        shape, why = self._shape([*buyer_hist, message])
        total = (
            w.keywords * _softmax(kw, w.kw_temp)
            + w.naive_bayes * _softmax(nb, w.nb_temp)
            + (w.exemplars * _softmax(knn, w.knn_temp) if knn.any() else 0)
            + w.shape * shape
        )
        signals = []
        for p in self.ids:
            s = []
            if p in fired:
                s.append("关键词：" + "、".join(f"「{k}」" for k in fired[p][:4]))
            if p in why:
                s.append(why[p])
            if p in nearest:
                s.append("像示例：" + nearest[p])
            signals.append(s)
        return total, signals

    def analyze(
        self, message: str, history: Sequence[Turn] = (), *, sku: str | None = None, persona: str | None = None
    ) -> Analysis:
        total, signals = self.persona_scores(message, history)
        probs = total / total.sum() if total.sum() > 0 else np.full(len(total), 1 / len(total))
        order = np.argsort(-probs)

        def guess(i: int) -> PersonaGuess:
            p = self.ids[i]
            return PersonaGuess(id=p, label=self.personas[p].label, confidence=round(float(probs[i]), 3), signals=signals[i])

        best = guess(int(order[0]))
        if persona:
            check_persona_id(persona)
            i = self.ids.index(persona)
            best = PersonaGuess(
                id=persona, label=self.personas[persona].label, confidence=1.0,
                signals=["客服手动指定"] + signals[i], overridden=True,
            )
        stage, stage_signals = detect_stage(message, history)
        emotion, emotion_signals = detect_emotion(message, history)
        intent = detect_intent(message)
        prev = [t.text for t in history if t.role == "buyer"]
        if intent == "other" and prev:  # "那这个呢": the question carries over from the last buyer turn
            carried = detect_intent(prev[-1])
            intent = "other" if carried == "greeting" else carried
        products: list[str] = []
        if self.products is not None:
            products = sorted(self.products.mentions(" ".join([*[t.text for t in history], message])))
        if sku and sku not in products:
            products.insert(0, sku)
        recent = [t.text for t in history if t.role == "buyer"][-2:]
        scam = any(SCAM_REPORT.search(text) for text in [*recent, message])
        injection = looks_like_injection(message) or next(
            (hit for t in history if t.role == "buyer" and (hit := looks_like_injection(t.text))), None
        )
        return Analysis(
            injection=injection,
            scam=scam,
            persona=best,
            stage=stage,
            emotion=emotion,
            intent=intent,
            intent_label=INTENT_LABELS.get(intent, intent),
            alternatives=[guess(int(i)) for i in order[:4] if self.ids[int(i)] != best.id][:3],
            stage_signals=stage_signals,
            emotion_signals=emotion_signals,
            products=products,
        )
