#!/usr/bin/env python3
"""Validate the sendable eval set (dev.yaml / test.yaml) and print coverage counts.

Usage: python3 check.py [--catalog PATH]
Exit code 0 when every hard requirement passes, 1 otherwise.
"""
import argparse
import collections
import datetime as dt
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
KNOW = os.path.join(HERE, "..", "..", "knowledge", "store")

PERSONAS = {
    "analytical": "分析型", "angry": "暴躁型", "bargainer": "杀价型", "browser": "逛街式",
    "budget": "哭穷型", "chatty": "唠叨型", "decisive": "购买型", "friendly": "友善型",
    "indecisive": "和气型", "perfectionist": "艺术家型", "picky": "刁钻型", "proud": "傲娇型",
    "silent": "沉默型", "skeptical": "拒绝型",
}
STAGES = ("pre_sale", "in_sale", "after_sale")
SCRIPTS = ("simplified", "traditional")
CASE_KEYS = {"id", "title", "persona", "stage", "sku", "now", "script", "turns", "questions",
             "must_not_include", "needs_apology", "note"}
Q_KEYS = {"ask", "answerable", "must_include"}
CARRY = "（前文"          # prefix marking an earlier, still-open question carried forward

# Characters that exist only in one script (small, conservative lists for a sanity check).
SIMP_ONLY = set("们这运费发货实确认问说还没补价优惠为吗应该时间质检换钱贵买卖单订码尺颜样热帮联系过给让对")
TRAD_ONLY = set("們這運費發貨實確認問說還沒補價優惠為嗎應該時間質檢換錢貴買賣單訂碼尺顏樣熱幫聯繫過給讓對")
_shared = SIMP_ONLY & TRAD_ONLY  # e.g. 尺, 惠
SIMP_ONLY -= _shared
TRAD_ONLY -= _shared

# Requirements per split.
MIN_MULTI_TURN = 0.30
MIN_MULTI_Q = 0.40
MIN_TRAD = 4
MIN_PER_STAGE = 2
MIN_PER_PERSONA = 2
UNANS_SHARE = (0.14, 0.22)    # brief: ~15-20 % of sub-questions unanswerable
TOPICS = {  # keyword (in any buyer turn) -> topic; used for coverage print + minimum 1 per split
    "remote_region": ["新疆", "西藏", "香港", "台湾", "台灣", "港澳", "海外", "国外"],
    "invoice": ["发票", "發票", "专票", "普票"],
    "authenticity": ["正品", "假的", "假货", "三无", "贴牌", "授权书", "授權", "檢測報告", "检测报告"],
    "scam_report": ["微信", "qq", "QQ", "LINE", "链接", "验证码", "掃碼", "扫码"],
    "haggling": ["便宜", "少点", "抹", "给我799", "按129", "按209", "给她", "退我20"],
    "size_hw": [r"\d{3}\s*\d{2,3}(kg|斤)?", r"\d{3}cm", "脚长", "腳寬", "脚宽"],
    "return": ["退货", "退貨", "能退", "要退", "退了", "换大", "換嗎", "换颜色"],
    "damaged": ["压扁", "划痕", "破损", "瘪了", "摔碎"],
    "quality": ["钻毛", "起球", "开胶", "线头", "線頭", "不保温", "掉色", "没声", "充不进电", "車線"],
    "wrong_or_missing": ["发了件", "只到", "到了一盒", "少发"],
    "skin_reaction": ["红", "痒", "红疹", "过敏"],
    "not_received": ["没收到", "没动", "三天了还不发"],
    "chit_chat": ["哈哈", "唉", "熊孩子", "婆婆", "闺女", "老公", "儿子"],
}


def parse_now(s):
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is None or t.utcoffset() != dt.timedelta(hours=8):
        raise ValueError("now must carry +08:00")
    return t


def load_catalog(path):
    cat = yaml.safe_load(open(path, encoding="utf-8"))
    return {p["sku"]: p for p in cat["products"]}


def knowledge_text():
    out = []
    for fn in ("catalog.yaml", "policies.md", "faqs.csv"):
        p = os.path.join(KNOW, fn)
        if os.path.exists(p):
            out.append(open(p, encoding="utf-8").read())
    return "\n".join(out)


def time_relations(case, products, now):
    """Return set of labels like promo_before/during/after, next_price_before/after."""
    rel = set()
    sku = case.get("sku")
    if not sku or sku not in products:
        return rel
    p = products[sku]
    for pr in p.get("promotions") or []:
        s, e = parse_now(pr["starts_at"]), parse_now(pr["ends_at"])
        if now < s:
            rel.add("promo_before")
        elif now <= e:
            rel.add("promo_during")
        else:
            rel.add("promo_after")
    npx = p.get("next_price")
    if npx:
        rel.add("next_price_after" if now >= parse_now(npx["effective_at"]) else "next_price_before")
    return rel


def check_split(name, path, products, errors, seen_ids, ktext, warnings):
    data = yaml.safe_load(open(path, encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        errors.append(f"{name}: top level must be a mapping with a list `cases`")
        return None
    cases = data["cases"]
    prefix = f"s-{name}-"
    st = collections.Counter()
    per_stage = collections.Counter()
    per_persona = collections.Counter()
    time_rel = collections.Counter()
    topics = collections.Counter()
    n_q = n_unans = n_carry = 0
    cases_with_unans = 0
    for i, c in enumerate(cases):
        where = f"{name}[{i}] {c.get('id', '?') if isinstance(c, dict) else '?'}"
        if not isinstance(c, dict):
            errors.append(f"{where}: case must be a mapping")
            continue
        missing = CASE_KEYS - set(c)
        extra = set(c) - CASE_KEYS
        if missing:
            errors.append(f"{where}: missing keys {sorted(missing)}")
            continue
        if extra:
            errors.append(f"{where}: unexpected keys {sorted(extra)}")
        cid = c["id"]
        if not isinstance(cid, str) or not re.fullmatch(re.escape(prefix) + r"\d{3}", cid):
            errors.append(f"{where}: id must look like {prefix}001")
        if cid in seen_ids:
            errors.append(f"{where}: duplicate id {cid}")
        seen_ids.add(cid)
        for k in ("title", "note"):
            if not isinstance(c[k], str) or not c[k].strip():
                errors.append(f"{where}: {k} must be a non-empty string")
        if c["persona"] not in PERSONAS:
            errors.append(f"{where}: unknown persona {c['persona']!r}")
        if c["stage"] not in STAGES:
            errors.append(f"{where}: unknown stage {c['stage']!r}")
        if c["sku"] is not None and c["sku"] not in products:
            errors.append(f"{where}: sku {c['sku']!r} not in catalog")
        if c["script"] not in SCRIPTS:
            errors.append(f"{where}: script must be one of {SCRIPTS}")
        now = None
        if not isinstance(c["now"], str):
            errors.append(f"{where}: now must be a quoted ISO string")
        else:
            try:
                now = parse_now(c["now"])
            except Exception as e:  # noqa: BLE001
                errors.append(f"{where}: bad now {c['now']!r}: {e}")
        if not isinstance(c["needs_apology"], bool):
            errors.append(f"{where}: needs_apology must be bool")
        # turns
        turns = c["turns"]
        if not isinstance(turns, list) or not turns:
            errors.append(f"{where}: turns must be a non-empty list")
            continue
        for j, t in enumerate(turns):
            if not isinstance(t, dict) or set(t) != {"role", "text"} or t["role"] not in ("buyer", "agent") \
                    or not isinstance(t["text"], str) or not t["text"].strip():
                errors.append(f"{where}: turn {j} must be {{role: buyer|agent, text: non-empty}}")
        if turns[-1].get("role") != "buyer":
            errors.append(f"{where}: last turn must be the buyer's")
        for j in range(1, len(turns)):
            if turns[j].get("role") == turns[j - 1].get("role") == "agent":
                warnings.append(f"{where}: two agent turns in a row at {j}")
        multi_turn = len(turns) > 1 and any(t.get("role") == "agent" for t in turns)
        buyer_text = " ".join(t["text"] for t in turns if t.get("role") == "buyer")
        # script sanity
        if c["script"] == "traditional":
            bad = sorted({ch for ch in buyer_text if ch in SIMP_ONLY})
            if bad:
                errors.append(f"{where}: traditional buyer text contains simplified-only chars {bad}")
            if not any(ch in TRAD_ONLY for ch in buyer_text):
                warnings.append(f"{where}: traditional case without any traditional-only char in buyer text")
        else:
            bad = sorted({ch for ch in buyer_text if ch in TRAD_ONLY})
            if bad:
                errors.append(f"{where}: simplified buyer text contains traditional-only chars {bad}")
        agent_text = " ".join(t["text"] for t in turns if t.get("role") == "agent")
        if c["script"] == "traditional" and any(ch in SIMP_ONLY for ch in agent_text):
            errors.append(f"{where}: agent turns of a traditional case use simplified chars")
        # questions
        qs = c["questions"]
        if not isinstance(qs, list) or not qs:
            errors.append(f"{where}: questions must be a non-empty list")
            continue
        new_q = 0
        case_unans = False
        all_must = []
        for j, q in enumerate(qs):
            if not isinstance(q, dict) or set(q) != Q_KEYS:
                errors.append(f"{where}: question {j} must have exactly {sorted(Q_KEYS)}")
                continue
            if not isinstance(q["ask"], str) or not q["ask"].strip():
                errors.append(f"{where}: question {j} ask empty")
            if not isinstance(q["answerable"], bool):
                errors.append(f"{where}: question {j} answerable must be bool")
            mi = q["must_include"]
            if not isinstance(mi, list) or not mi or not all(
                    isinstance(g, list) and g and all(isinstance(s, str) and s.strip() for s in g) for g in mi):
                errors.append(f"{where}: question {j} must_include must be a non-empty list of non-empty string lists")
                continue
            for g in mi:
                all_must.extend(g)
                if len(set(g)) != len(g):
                    warnings.append(f"{where}: question {j} duplicate alternatives {g}")
                if c["script"] == "traditional":
                    for s in g:
                        if any(ch in SIMP_ONLY for ch in s):
                            errors.append(f"{where}: traditional case must_include item uses simplified chars: {s!r}")
            n_q += 1
            if q["ask"].startswith(CARRY):
                n_carry += 1
                if not multi_turn:
                    errors.append(f"{where}: carried-forward question in a single-turn case")
            else:
                new_q += 1
            if q["answerable"] is False:
                n_unans += 1
                case_unans = True
            elif q["answerable"] is True:
                # soft traceability check: numbers in must_include should appear in knowledge files
                for g in mi:
                    nums_ok = []
                    for s in g:
                        nums = re.findall(r"\d+(?:\.\d+)?", s)
                        nums_ok.append(not nums or all(n in ktext for n in nums))
                    if not any(nums_ok):
                        warnings.append(f"{where}: q{j} numbers in {g} not literally in knowledge (derived?)")
        if case_unans:
            cases_with_unans += 1
        mni = c["must_not_include"]
        if not isinstance(mni, list) or not all(isinstance(s, str) and s.strip() for s in mni):
            errors.append(f"{where}: must_not_include must be a list of non-empty strings")
            mni = []
        for s in mni:
            for m in all_must:
                if s in m:
                    errors.append(f"{where}: must_not {s!r} is contained in must_include item {m!r}")
            if c["script"] == "traditional" and any(ch in SIMP_ONLY for ch in s):
                errors.append(f"{where}: traditional case must_not item uses simplified chars: {s!r}")
        # counters
        st["cases"] += 1
        st["multi_turn"] += multi_turn
        st["multi_question"] += new_q >= 2
        st["traditional"] += c["script"] == "traditional"
        st["needs_apology"] += bool(c["needs_apology"])
        st["sku_null"] += c["sku"] is None
        per_stage[c["stage"]] += 1
        per_persona[c["persona"]] += 1
        if now is not None:
            for r in time_relations(c, products, now):
                time_rel[r] += 1
        for topic, kws in TOPICS.items():
            if any(re.search(k, buyer_text) for k in kws):
                topics[topic] += 1
    n = st["cases"]
    st["questions"] = n_q
    st["unanswerable_q"] = n_unans
    st["carried_forward_q"] = n_carry
    st["cases_with_unanswerable"] = cases_with_unans
    # requirements
    def req(cond, msg):
        if not cond:
            errors.append(f"{name}: {msg}")
    req(n == 60, f"expected 60 cases, got {n}")
    req(st["multi_turn"] >= MIN_MULTI_TURN * n, f"multi-turn {st['multi_turn']} < {MIN_MULTI_TURN:.0%}")
    req(st["multi_question"] >= MIN_MULTI_Q * n, f"multi-question {st['multi_question']} < {MIN_MULTI_Q:.0%}")
    req(st["traditional"] >= MIN_TRAD, f"traditional {st['traditional']} < {MIN_TRAD}")
    req(n_carry >= 1, "no carried-forward (earlier unanswered) question")
    for s in STAGES:
        req(per_stage[s] >= MIN_PER_STAGE, f"stage {s} only {per_stage[s]}")
    for p in PERSONAS:
        req(per_persona[p] >= MIN_PER_PERSONA, f"persona {p} only {per_persona[p]}")
    share = n_unans / n_q if n_q else 0
    req(UNANS_SHARE[0] <= share <= UNANS_SHARE[1],
        f"unanswerable share {share:.1%} outside {UNANS_SHARE[0]:.0%}-{UNANS_SHARE[1]:.0%}")
    for r in ("promo_before", "promo_during", "promo_after", "next_price_before", "next_price_after"):
        req(time_rel[r] >= 1, f"no case with {r}")
    for t in TOPICS:
        req(topics[t] >= 1, f"no case for topic {t}")
    return {"stats": st, "stage": per_stage, "persona": per_persona, "time": time_rel,
            "topics": topics, "share": share}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", default=os.path.join(KNOW, "catalog.yaml"))
    args = ap.parse_args()
    products = load_catalog(args.catalog)
    ktext = knowledge_text()
    errors, warnings, seen = [], [], set()
    res = {}
    for name in ("dev", "test"):
        res[name] = check_split(name, os.path.join(HERE, f"{name}.yaml"), products, errors, seen, ktext, warnings)
    if all(res.values()):
        print(f"{'':26s}{'dev':>6s}{'test':>6s}")
        def row(label, a, b):
            print(f"{label:26s}{a:>6}{b:>6}")
        for k in ("cases", "multi_turn", "multi_question", "traditional", "questions", "unanswerable_q",
                  "cases_with_unanswerable", "carried_forward_q", "needs_apology", "sku_null"):
            row(k, res["dev"]["stats"][k], res["test"]["stats"][k])
        row("unanswerable_share", f"{res['dev']['share']:.1%}", f"{res['test']['share']:.1%}")
        print("-- stage")
        for s in STAGES:
            row(s, res["dev"]["stage"][s], res["test"]["stage"][s])
        print("-- persona")
        for p in PERSONAS:
            row(f"{p} {PERSONAS[p]}", res["dev"]["persona"][p], res["test"]["persona"][p])
        print("-- time relation (cases whose sku has a promo/next_price before/during/after now)")
        for r in ("promo_before", "promo_during", "promo_after", "next_price_before", "next_price_after"):
            row(r, res["dev"]["time"][r], res["test"]["time"][r])
        print("-- topics (keyword heuristic over buyer turns)")
        for t in TOPICS:
            row(t, res["dev"]["topics"][t], res["test"]["topics"][t])
        # balance between splits
        for k in ("multi_turn", "multi_question", "traditional"):
            a, b = res["dev"]["stats"][k], res["test"]["stats"][k]
            if abs(a - b) > 6:
                warnings.append(f"splits unbalanced on {k}: {a} vs {b}")
    for w in warnings:
        print("WARN", w)
    for e in errors:
        print("ERROR", e)
    print("PASS" if not errors else f"FAIL ({len(errors)} errors)")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
