"""The order eval (``evals/orders/``): drafts that answer from the buyer's order, and the order rule on replies.

Written by authors who never saw the code (``evals/orders/BRIEF.md``), for the three sample stores
(``stores.yaml``). Drafting cases give a conversation, the order and ``now``; the top draft must say every
``must_include`` group (any one wording of each) and none of ``must_not_include``, and no draft may state an order
fact the order contradicts. Check cases give one agent reply and whether what it says of the order is consistent;
the ``order_facts`` rule is scored on them. ``dev*`` are tuned on; ``test`` is frozen: its failures are listed by id
only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import yaml

from ..drafting.io import DraftRequest
from ..drafting.pipeline import Copilot
from ..errors import InputError
from ..knowledge.ingest import ingest
from ..orders.model import Order
from ..rules.checking import Checker
from ..schema import Turn
from ..settings import Settings
from ..text.cleaning import to_simplified

def order_splits(directory: Path) -> list[Path]:
    """The split files: ``dev.yaml``, ``dev2.yaml``… (tuned on), then ``test.yaml`` (frozen)."""
    if not directory.is_dir():
        return []
    devs = sorted(directory.glob("dev*.yaml"), key=lambda p: (len(p.stem), p.stem))
    return [*devs, *sorted(directory.glob("test*.yaml"))]


def load_order_set(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"订单评测集格式有误：{path}：{exc}", message_en=f"bad order eval file {path}") from None
    return {"cases": data.get("cases") or [], "checks": data.get("checks") or []}


def _stores(directory: Path) -> dict[str, Path]:
    spec = yaml.safe_load((directory / "stores.yaml").read_text(encoding="utf-8")) or {}
    return {k: (directory / v).resolve() for k, v in spec.items()}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", to_simplified(text)).lower()


class _Stores:
    """One copilot and checker per store the cases name: the store under evaluation is the run's own; another
    store gets its own index (incremental, under the data dir, the same one ``copilot eval --knowledge`` uses)."""

    def __init__(self, settings: Settings, copilot: Copilot, directory: Path) -> None:
        self.settings, self.copilot, self.paths = settings, copilot, _stores(directory)
        self._built: dict[str, tuple[Copilot, Checker]] = {}

    def get(self, store: str) -> tuple[Copilot, Checker]:
        if store not in self._built:
            path = self.paths.get(store)
            if path is None:
                raise InputError(f"订单评测用例的店铺 {store} 不在 stores.yaml 里", message_en=f"unknown store {store}")
            if path == Path(self.settings.knowledge_dir).resolve():
                copilot = self.copilot
            else:
                from .run import store_settings  # run imports the suites, which import this module

                s = store_settings(self.settings, path)
                ingest(s)
                copilot = Copilot(s, backend=self.copilot.backend)
            self._built[store] = (copilot, Checker(copilot.settings, catalog=copilot.current_catalog))
        return self._built[store]


# what authors call the two sides of a chat (the brief showed only ``buyer``)
_ROLES = {"buyer": "buyer", "买家": "buyer", "agent": "agent", "seller": "agent", "shop": "agent", "客服": "agent"}


def _request(case: dict) -> DraftRequest:
    turns = [Turn(role=_ROLES.get(t.get("role"), t.get("role")), text=t.get("text", "")) for t in case.get("turns") or []]
    if not turns or turns[-1].role != "buyer":
        raise InputError(f"订单评测用例 {case.get('id')} 的最后一条不是买家消息", message_en="last turn must be the buyer's")
    return DraftRequest(message=turns[-1].text, history=turns[:-1], order=Order.model_validate(case.get("order") or {}),
                        now=datetime.fromisoformat(case["now"]), n=3)


def run_order_eval(settings: Settings, copilot: Copilot, path: Path, *, frozen: bool,
                   progress: Callable[[int, int], None] | None = None) -> dict:
    data = load_order_set(path)
    stores = _Stores(settings, copilot, path.parent)
    cases, checks = data["cases"], data["checks"]
    total = len(cases) + len(checks)
    met = groups = forbidden = claims_wrong = drafts_n = 0
    by_status: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures: list[dict] = []
    for k, case in enumerate(cases):
        if progress:
            progress(k, total)
        c, _ = stores.get(case["store"])
        res = c.draft(_request(case))
        top = _norm(res.drafts[0].text) if res.drafts else ""
        missing = [g[0] for g in case.get("must_include") or [] if not any(_norm(w) in top for w in g)]
        said = [w for w in case.get("must_not_include") or [] if _norm(w) in top]
        wrong = [d for d in res.drafts if any(ch.rule == "order_facts" and not ch.passed for ch in d.checks)]
        n_groups = len(case.get("must_include") or [])
        groups += n_groups
        met += n_groups - len(missing)
        forbidden += bool(said)
        claims_wrong += len(wrong)
        drafts_n += len(res.drafts)
        ok = not missing and not said and not wrong
        status = (case.get("order") or {}).get("status") or "—"
        by_status[status][0] += ok
        by_status[status][1] += 1
        if not ok:
            reason = "；".join(x for x in (missing and "没说到：" + "、".join(missing), said and "说了：" + "、".join(said),
                                           wrong and "与订单不符的草稿 %d 份" % len(wrong)) if x)
            failures.append({"id": case["id"], "kind": "draft", "reason": "" if frozen else reason,
                             "text": "" if frozen or not res.drafts else res.drafts[0].text})
    tp = fp = fn = tn = 0
    for k, case in enumerate(checks):
        if progress:
            progress(len(cases) + k, total)
        _, checker = stores.get(case["store"])
        report = checker.check(case["reply"], message=case.get("message") or "", now=datetime.fromisoformat(case["now"]),
                               order=Order.model_validate(case.get("order") or {}))
        rule = next(ch for ch in report.checks if ch.rule == "order_facts")
        predicted, actual = not rule.passed, not case["consistent"]
        tp += predicted and actual
        fp += predicted and not actual
        fn += (not predicted) and actual
        tn += (not predicted) and not actual
        if predicted != actual:
            failures.append({"id": case["id"], "kind": "check", "reason": "" if frozen else rule.detail,
                             "text": "" if frozen else case["reply"]})
    if progress:
        progress(total, total)
    n = len(cases)
    return {
        "cases": n, "checks": len(checks),
        "top_pass_rate": round(sum(v[0] for v in by_status.values()) / n, 4) if n else None,
        "include_rate": round(met / groups, 4) if groups else None,
        "forbidden_rate": round(forbidden / n, 4) if n else None,
        "wrong_claim_drafts": claims_wrong, "drafts": drafts_n,
        "by_status": {s: round(v[0] / v[1], 4) for s, v in sorted(by_status.items())},
        "check_precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "check_recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "failures": failures,
    }
