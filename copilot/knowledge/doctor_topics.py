"""The topic rules of ``copilot doctor``: does the store's own text answer what buyers ask every day?

Each rule reads the store's policy sections and FAQ pairs (``doctor.Unit``) and the catalog, and returns one
``Check`` whose detail says what the store states or what to add to which file. Topics are recognised by
generic Chinese e-commerce words (退货/换货/无理由, 快递/物流/发货, 发票, 破损/错发/漏发, 质量 …) — nothing
here knows one shop's goods; categories and product names come from the store's catalog.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ..text.vocabulary import carrier_alternation
from .doctor import Check, StoreText, Unit

RETURN = re.compile(r"无理由|退换|退货|换货|不退|可退|能退|包退|包换|可以退|可以换|可换")
TIME = re.compile(
    r"\d+(?:\.\d+)?\s*(?:[-~～至到]\s*\d+\s*)?(?:个)?(?:小时|天|个?工作日|周|个?月|年|分钟)"
    r"|[一二两三四五六七八九十半]+\s*(?:个)?(?:小时|天|个?工作日|周|个?月|年)"
    r"|当天|当日|次日|隔日|\d{1,2}\s*[:：]\s*\d{2}"
)
CARRIERS = re.compile(carrier_alternation())
DISPATCH = re.compile(r"发货|发出|出库|揽收|寄出")
DELIVERY = re.compile(r"送达|到货|到达|能到|次日达|隔日达|时效|派送|在途|运输时间")
REGIONS = re.compile(r"不发货|暂不发|不配送|不送|无法配送|不能配送|不支持配送|停发|不包邮|补运费|补邮费|加收运费|需补|偏远|港澳台|海外|境外")
INVOICE = re.compile(r"发票|开票|专票|普票")
DAMAGE = {"破损": re.compile(r"破损|压坏|碎裂|摔坏|损坏|压扁|漏液"), "错发": re.compile(r"错发|发错"),
          "漏发": re.compile(r"漏发|少发|缺件|少件|漏件|发少")}
ANY_DAMAGE = re.compile("|".join(rx.pattern for rx in DAMAGE.values()))
QUALITY = re.compile(r"质量问题|质量|质保|保修|瑕疵|故障")
PROOF = re.compile(r"照片|图片|拍照|拍下|视频|开箱|面单|截图|凭证|录像|实物")
PROCESS = re.compile(r"联系客服|提供|补发|处理|申请|核实|换新|维修|检测|退换|寄回")
CATEGORY_PARTS = re.compile(r"[/>＞|｜·、\\]")
KEPT_AS_SPEC = "已作为规格参数保留"  # the catalog's note for a store's own field: it is used, not lost
SENTENCE = re.compile(r"[。！？!?；;\n]+")


def _sentences(units: list[Unit]) -> list[str]:
    return [s for u in units for s in SENTENCE.split(u.text) if s.strip()]


def _label(units: list[Unit], rx: re.Pattern) -> str:
    """Where a topic is stated: a policy section whose title names it first, then any policy section, then a FAQ."""
    return min(units, key=lambda u: (u.kind != "policy", not rx.search(u.label))).label


def _where(st: StoreText, section: str, faq: str) -> str:
    return f"在 {st.policy_file} 增加「## {section}」小节，或在 {st.faq_file} 加一行「{faq}」"


def check_returns(st: StoreText) -> Check:
    topic = "各品类退换规则"
    rules = [u for u in st.units if RETURN.search(u.text)]
    general = [u for u in rules if not u.sku and ("无理由" in u.text or TIME.search(u.text))]
    products = st.products
    if not products:
        ok = bool(general)
        return Check(id="returns", topic=topic, ok=ok, detail=(
            ("已有通用退换规则（" + _label(general, RETURN) + "）；" if ok else
             "没有写退换货规则（能否七天无理由、什么情况不退、运费谁出）：" + _where(st, "退换货规则", "支持七天无理由吗？") + "；")
            + "没有商品目录，无法逐个品类核对"))
    cats: dict[str, list] = {}
    for p in products:
        cats.setdefault(p.category, []).append(p)
    specific, missing = [], []
    for cat, items in cats.items():
        parts = [x.strip() for x in CATEGORY_PARTS.split(cat) if len(x.strip()) >= 2]  # 「大类/小类」: both parts
        names = {cat, *parts, *(n for p in items for n in [p.name, *p.aliases] if len(n) >= 2)}
        skus = {p.sku for p in items}
        if any(u.sku in skus or any(n in u.text for n in names) for u in rules):
            specific.append(cat)
        elif not general:
            missing.append(cat)
    if missing:
        return Check(id="returns", topic=topic, ok=False, missing=missing, detail=(
            f"这些品类没有写退换规则：{'、'.join(missing)}。写明签收后几天内可退换、拆封/使用后能否退、"
            f"寄回运费谁出：{_where(st, '退换货规则', '支持七天无理由吗？')}，"
            "按品类分别写（如「××类拆封后不支持无理由退货」）"))
    rest = [c for c in cats if c not in specific]
    detail = f"{len(cats)} 个品类都有退换规则" + (f"（单独写明的：{'、'.join(specific)}）" if specific else "")
    if rest:
        detail += f"；{'、'.join(rest)} 只适用通用规则（{_label(general, RETURN)}），有例外请单独写明"
    return Check(id="returns", topic=topic, ok=True, detail=detail)


def check_carriers(st: StoreText) -> Check:
    found = list(dict.fromkeys(m.group(0) for u in st.units for m in CARRIERS.finditer(u.text)))
    if found:
        return Check(id="carriers", topic="快递公司", ok=True, detail="写明了快递：" + "、".join(found))
    return Check(id="carriers", topic="快递公司", ok=False, missing=["快递公司"], detail=(
        "没有写发什么快递（买家常问「发什么快递」「能指定顺丰吗」）：" + _where(st, "发货与快递", "发什么快递？")
        + "，写明默认快递、能否指定或补差价升级"))


def check_ship_times(st: StoreText) -> Check:
    sentences = _sentences(st.units)
    dispatch = any(DISPATCH.search(s) and TIME.search(s) for s in sentences)
    delivery = any(DELIVERY.search(s) and TIME.search(s) for s in sentences)
    missing = [x for x, ok in (("发货时效", dispatch), ("送达时效", delivery)) if not ok]
    if not missing:
        return Check(id="ship_times", topic="发货与送达时效", ok=True, detail="写明了付款后多久发货、发货后几天送达")
    what = {"发货时效": "付款后多久发货（几点前付款当天发）", "送达时效": "发货后各地区几天送达"}
    return Check(id="ship_times", topic="发货与送达时效", ok=False, missing=missing, detail=(
        "没有写" + "、".join(what[m] for m in missing) + "：" + _where(st, "发货时效", "什么时候发货？几天能到？")))


def check_regions(st: StoreText) -> Check:
    shipping = [u for u in st.units if DISPATCH.search(u.text) or re.search(r"快递|物流|包邮|运费|配送", u.text)]
    if any(REGIONS.search(s) for s in _sentences(shipping)):
        return Check(id="regions", topic="不发货与加运费地区", ok=True, detail="写明了不发货或需补运费的地区")
    return Check(id="regions", topic="不发货与加运费地区", ok=False, missing=["不发货地区"], detail=(
        "没有写哪些地区不发货或要补运费（偏远地区、港澳台、海外）：" + _where(st, "发货与快递", "包邮吗？哪些地方不发货？")))


def check_invoice(st: StoreText) -> Check:
    units = [u for u in st.units if INVOICE.search(u.text)]
    if units:
        return Check(id="invoice", topic="发票", ok=True, detail=f"写明了发票（{_label(units, INVOICE)}）")
    return Check(id="invoice", topic="发票", ok=False, missing=["发票"], detail=(
        "没有写能否开发票：" + _where(st, "发票", "能开发票吗？") + "，写明发票类型（电子普票/专票）、抬头与税号、"
        "在哪里申请、多久开出"))


def _after_sale(units: list[Unit]) -> tuple[bool, bool]:
    text = "\n".join(_sentences(units))
    return bool(PROOF.search(text)), bool(TIME.search(text))


def check_damage(st: StoreText) -> Check:
    topic = "售后：破损/错发/漏发"
    units = [u for u in st.units if any(rx.search(u.text) for rx in DAMAGE.values()) and PROCESS.search(u.text)]
    kinds = [k for k, rx in DAMAGE.items() if not any(rx.search(u.text) for u in units)]
    proof, timed = _after_sale(units)
    missing = [*kinds, *([] if proof or not units else ["凭证"]), *([] if timed or not units else ["时限"])]
    if not missing:
        return Check(id="damage", topic=topic, ok=True, detail=f"写明了破损、错发、漏发的处理、凭证和时限（{_label(units, ANY_DAMAGE)}）")
    parts = []
    if kinds:
        parts.append(f"收到{'、'.join(kinds)}时怎么处理（补发还是退款、运费谁出）")
    if units and not proof:
        parts.append("要买家提供什么凭证（订单号、商品与面单照片、开箱视频）")
    if units and not timed:
        parts.append("签收后多久内反馈、核实后多久处理完")
    return Check(id="damage", topic=topic, ok=False, missing=missing, detail=(
        "没有写" + "；".join(parts) + "：" + _where(st, "售后流程：破损、错发、漏发", "收到的东西破损了怎么办？")))


def check_quality(st: StoreText) -> Check:
    topic = "售后：质量问题"
    units = [u for u in st.units if QUALITY.search(u.text) and PROCESS.search(u.text)]
    proof, timed = _after_sale(units)
    if units and proof and timed:
        return Check(id="quality", topic=topic, ok=True, detail=f"写明了质量问题的处理、凭证和时限（{_label(units, QUALITY)}）")
    if not units:
        missing, what = ["质量问题"], "质量问题怎么处理（多久内可退换或保修、要什么凭证、运费谁出）"
    else:
        missing = [*([] if proof else ["凭证"]), *([] if timed else ["时限"])]
        what = "；".join(x for x, need in (("质量问题要买家提供什么凭证（照片、视频、检测报告）", not proof),
                                          ("签收后多久内可退换或保修、多久出结果", not timed)) if need)
    return Check(id="quality", topic=topic, ok=False, missing=missing, detail=(
        "没有写" + what + "：" + _where(st, "售后流程：质量问题", "质量有问题怎么处理？")))


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def check_prices(st: StoreText) -> Check:
    topic = "价格与库存"
    if st.catalog_error:
        return Check(id="prices", topic=topic, ok=False, missing=["商品目录"],
                     detail=f"商品目录无法读取（{st.catalog_error}），起草时没有价格和库存：修正后重新导入")
    if not st.products:
        return Check(id="prices", topic=topic, ok=False, missing=["商品目录"], detail=(
            "没有商品目录：在 store/catalog.yaml 写明每个商品的 sku、name、category、price、stock"
            "（可选 promotions、size_chart、faqs），买家问价格、库存时才有依据"))
    missing = []
    for p in st.products:
        price, stock = _get(p, "price"), _get(p, "stock")
        if price is None or price <= 0:
            missing.append(f"{p.sku} 价格")
        if stock is None:
            missing.append(f"{p.sku} 库存")
        for v in _get(p, "variants") or []:
            name = _get(v, "label") or _get(v, "name") or _get(v, "sku") or "规格"
            if (_get(v, "price") or price) is None:
                missing.append(f"{p.sku}/{name} 价格")
            if _get(v, "stock") is None:
                missing.append(f"{p.sku}/{name} 库存")
    if missing:
        return Check(id="prices", topic=topic, ok=False, missing=missing, detail=(
            "缺少价格或库存：" + "、".join(missing[:12]) + (" 等" if len(missing) > 12 else "") + "：在商品目录里补上 price、stock"))
    with_variants = sum(1 for p in st.products if _get(p, "variants"))
    extra = f"（其中 {with_variants} 个商品的各规格也有）" if with_variants else ""
    return Check(id="prices", topic=topic, ok=True, detail=f"{len(st.products)} 个商品都有价格和库存{extra}")


def check_promotions(st: StoreText, now: datetime | None) -> tuple[Check, list[str]]:
    topic = "促销活动"
    promos = [(p, pr) for p in st.products for pr in (_get(p, "promotions") or [])]
    untimed = [f"{p.sku}「{_get(pr, 'title')}」" for p, pr in promos if not _get(pr, "starts_at") or not _get(pr, "ends_at")]
    if untimed:
        return Check(id="promotions", topic=topic, ok=False, missing=untimed, detail=(
            "这些活动没有写开始/结束时间：" + "、".join(untimed[:8]) + "：在商品目录的 promotions 写明 starts_at、ends_at，"
            "否则不能说「今晚结束」「限时」")), []
    if not promos:
        return Check(id="promotions", topic=topic, ok=True, detail=(
            "商品目录里没有促销活动（有活动时在 promotions 写明 title、discount、starts_at、ends_at）")), []
    tz = getattr(st.catalog, "tz", timezone.utc)
    now = now or datetime.now(tz)
    if now.tzinfo is None:
        now = now.replace(tzinfo=tz)
    ended = [f"{p.sku}「{pr.title}」" for p, pr in promos if pr.ends_at <= now]
    active = sum(1 for _, pr in promos if pr.starts_at <= now < pr.ends_at)
    upcoming = sum(1 for _, pr in promos if now < pr.starts_at)
    warnings = [f"这些活动已结束，可从商品目录删除：{'、'.join(ended[:8])}{' 等' if len(ended) > 8 else ''}"] if ended else []
    return Check(id="promotions", topic=topic, ok=True, detail=(
        f"{len(promos)} 个活动都写明了时间（进行中 {active}、未开始 {upcoming}、已结束 {len(ended)}）")), warnings


def check_files(st: StoreText) -> Check:
    topic = "知识文件格式"
    # broken files; ignored fields, duplicate SKUs, FAQ rows with unknown SKUs or columns (a store's own field kept
    # as a spec is only a note: see run_checks)
    issues = [*st.problems, *(w for w in st.catalog_warnings if KEPT_AS_SPEC not in w)]
    if not issues:
        return Check(id="files", topic=topic, ok=True, detail="所有知识文件都能导入，商品目录与问答没有格式问题")
    return Check(id="files", topic=topic, ok=False, missing=issues, detail=(
        "；".join(issues[:8]) + (f" 等 {len(issues)} 处" if len(issues) > 8 else "") + "：修正后重新运行 copilot ingest"))


def run_checks(st: StoreText, now: datetime | None = None) -> list[Check]:
    """Every topic check, in report order; notes that are not gaps (ended promotions) join ``st.warnings``."""
    promotions, ended = check_promotions(st, now)
    checks = [check_returns(st), check_carriers(st), check_ship_times(st), check_regions(st), check_invoice(st),
              check_damage(st), check_quality(st), check_prices(st), promotions, check_files(st)]
    st.warnings += [*ended, *(w for w in st.catalog_warnings if KEPT_AS_SPEC in w)]
    return checks
