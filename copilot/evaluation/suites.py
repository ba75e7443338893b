"""The eval suites behind one registry: ``copilot eval NAME``, the workspace's eval tab and CI all use it.

A suite runs over an ``EvalEnv`` (settings, the copilot and checker under
test, run options) and returns one or more named typed results (the rules
suite also scores each held-out set). Each suite says which of its cases fail
(for the baseline diff), how to summarise a result in one line, and how to
print it as a table.
"""

from __future__ import annotations

import re
import statistics
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from ..drafting.pipeline import Copilot
from ..rules.checking import Checker
from ..settings import Settings
from .analysis import format_report, run_analysis_eval
from .analysis import load_cases as load_analysis_cases
from .buyer import (
    SPLITS,
    load_buyer_cases,
    load_notice_cases,
    run_buyer_eval,
    run_notice_eval,
    run_safety_drafts,
)
from .dialogues import load_dialogues, run_dialogue_eval
from .redteam import format_redteam, run_redteam
from .results import (
    AnalysisResult,
    BuyerResult,
    DialoguesResult,
    NoticeResult,
    OrderResult,
    ToneResult,
    RedteamResult,
    RepliesResult,
    RetrievalResult,
    RulesResult,
    SafetyDrafts,
    SendableResult,
    SuiteResult,
)
from .retrieval import format_table, run_retrieval_eval
from .replies import format_replies, present_splits, run_replies_eval
from .rules import format_rules, run_rules_eval
from .sendable import load_cases as load_sendable
from .sendable import run_sendable_eval
from .tracing import StoreEvidence
from .tones import run_tone_eval
from .orders import order_splits, run_order_eval


@dataclass
class EvalEnv:
    settings: Settings
    copilot: Copilot
    checker: Checker
    repeat: int = 1
    judge: int = 0
    sweep: bool = False


def progress_bar(label: str) -> Callable[[int, int], None] | None:
    """A small terminal progress bar on stderr (silent when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 28
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{label} [{'█' * filled}{'·' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


class Suite(ABC):
    name: str
    label: str = ""  # what the workspace's progress bar calls it
    data: str = ""  # the file or folder under the evals dir the suite reads ("" : none)

    def available(self, settings: Settings) -> bool:
        """Whether this store's eval folder has the suite's data (``all`` runs only those)."""
        return not self.data or (settings.evals_dir / self.data).exists()

    @abstractmethod
    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        """Run the suite; results are keyed by the name they are reported under."""

    def failing(self, name: str, result: SuiteResult) -> set[str]:
        """Keys of the failing cases, compared against a baseline run (none: not diffed)."""
        return set()

    def summary(self, name: str, result: SuiteResult) -> list[str]:
        return []

    def table(self, result: SuiteResult) -> str | None:
        """The detailed text shown when the suite runs alone."""
        return None


class RetrievalSuite(Suite):
    name = "retrieval"
    label = "检索"
    data = "retrieval.jsonl"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        raw = run_retrieval_eval(env.settings, env.settings.evals_dir / "retrieval.jsonl", sweep=env.sweep,
                                 retriever=env.copilot.retriever)
        return {self.name: RetrievalResult.model_validate(raw)}

    def failing(self, name: str, result: RetrievalResult) -> set[str]:
        return {f["id"] for f in result.modes["hybrid"].failures}

    def summary(self, name: str, result: RetrievalResult) -> list[str]:
        h = result.modes["hybrid"]
        return [f"检索：hybrid R@3 {h.recall_3:.3f}，MRR {h.mrr:.3f}"]

    def table(self, result: RetrievalResult) -> str:
        return format_table(result.model_dump(by_alias=True, exclude_unset=True))


class AnalysisSuite(Suite):
    name = "analysis"
    label = "买家分析"
    data = "analysis.jsonl"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        raw = run_analysis_eval(env.copilot.analyzer, load_analysis_cases(env.settings.evals_dir / "analysis.jsonl"))
        return {self.name: AnalysisResult.model_validate(raw)}

    def failing(self, name: str, result: AnalysisResult) -> set[str]:
        return {f"{f.id}:{f.field}" for f in result.failures}

    def summary(self, name: str, result: AnalysisResult) -> list[str]:
        return ["买家分析：" + "，".join(f"{k} {v:.3f}" for k, v in result.accuracy.items())]

    def table(self, result: AnalysisResult) -> str:
        return format_report(result.model_dump())


class RulesSuite(Suite):
    """The rule checker on the dev sets (``evals/rules``) and on every held-out set (``evals/rules_holdout*``)."""

    name = "rules"
    label = "规则检查"
    data = "rules"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        evals = env.settings.evals_dir
        out: dict[str, SuiteResult] = {self.name: RulesResult.model_validate(run_rules_eval(env.checker, evals / "rules"))}
        # held-out sets written by someone who never saw the checker (see evals/reports/holdout_*.md)
        for holdout in sorted(evals.glob("rules_holdout*")):
            if holdout.is_dir() and any(holdout.glob("*.jsonl")):
                rules = tuple(p.stem for p in sorted(holdout.glob("*.jsonl")))
                out[holdout.name] = RulesResult.model_validate(run_rules_eval(env.checker, holdout, rules))
        return out

    def failing(self, name: str, result: RulesResult) -> set[str]:
        if name != self.name:
            return set()
        return {f"{rule}:{e['id']}" for rule, r in result.rules.items() for e in r.errors}

    def summary(self, name: str, result: RulesResult) -> list[str]:
        rs = list(result.rules.values())
        if name == self.name:
            worst = min(rs, key=lambda r: min(r.precision, r.recall))
            return [f"规则检查：最低精确率/召回率 {min(worst.precision, worst.recall):.3f}（{worst.name}）"]
        return [f"规则检查（{name}）：平均精确率 {statistics.mean(r.precision for r in rs):.3f}，"
                f"平均召回率 {statistics.mean(r.recall for r in rs):.3f}"]

    def table(self, result: RulesResult) -> str:
        return format_rules(result.model_dump())


class RepliesSuite(Suite):
    """Rule checks on fresh replies (issue 14): ``replies`` is the dev split, ``replies_test``, ``replies_test2`` and
    ``replies_test3`` the frozen ones."""

    name = "replies"
    label = "新写的回复集"
    data = "replies"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        folder = env.settings.evals_dir / self.data
        return {(self.name if split == "dev" else f"{self.name}_{split}"): RepliesResult.model_validate(
            run_replies_eval(folder, env.settings, split, list_failures=split == "dev")) for split in present_splits(folder)}

    def failing(self, name: str, result: RepliesResult) -> set[str]:
        if name != self.name:
            return set()
        return ({f"{rule}:{e['id']}" for rule, r in result.rules.items() for e in r.errors}
                | {f"hostile:{e['id']}" for e in result.hostile.missed}
                | {f"agent:{e['id']}" for e in result.agent_replies.false_alarms})

    def summary(self, name: str, r: RepliesResult) -> list[str]:
        split = _split_label(name)
        rs = list(r.rules.values())
        worst = min(rs, key=lambda x: min(x.precision, x.recall)) if rs else None
        head = (f"新写的回复（{split}）：每条规则平均精确率 {statistics.mean(x.precision for x in rs):.3f}、"
                f"平均召回率 {statistics.mean(x.recall for x in rs):.3f}（最低 {worst.name} "
                f"{min(worst.precision, worst.recall):.3f}）；") if worst else f"新写的回复（{split}）："
        missing = "，".join(f"{k} {v} 条" for k, v in r.unknown_rules.items())
        hostile = f"恶意回复被拦下 {r.hostile.flagged_rate:.3f}（{r.hostile.cases} 条）；" if r.hostile.cases else ""
        return [head + hostile + "客服真实回复误报 "
                f"{r.agent_replies.false_alarm_rate:.3f}（{r.agent_replies.cases} 条）"
                + (f"；检查器还没有的规则：{missing}" if missing else "")]

    def table(self, result: RepliesResult) -> str:
        return format_replies(result.model_dump())


class DialoguesSuite(Suite):
    name = "dialogues"
    label = "样例对话"
    data = "dialogues"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        evidence = StoreEvidence(env.settings.knowledge_dir, catalog=env.copilot.current_catalog())
        out: dict[str, SuiteResult] = {}
        # the store's own dialogues, and a frozen held-out set when it has one (measured, never tuned on)
        for name, folder in ((self.name, "dialogues"), (f"{self.name}_holdout", "dialogues_holdout")):
            if name != self.name and not (env.settings.evals_dir / folder).is_dir():
                continue
            dialogues = load_dialogues(env.settings.evals_dir / folder)
            runs = []
            for r in range(env.repeat):
                label = ("对话评测" if name == self.name else "留出对话") + (f" 第{r + 1}/{env.repeat}轮" if env.repeat > 1 else "")
                runs.append(run_dialogue_eval(env.copilot, dialogues, progress=progress_bar(label),
                                              judge_repeats=env.judge, evidence=evidence))
            result = runs[0]
            if env.repeat > 1:
                result["repeats"] = _spread(runs)
            out[name] = DialoguesResult.model_validate(result)
        return out

    def failing(self, name: str, result: DialoguesResult) -> set[str]:
        return {c.id for c in result.cases if not c.passed} if name == self.name else set()

    def summary(self, name: str, d: DialoguesResult) -> list[str]:
        traced = f"事实无出处的草稿 {d.untraced_draft_rate:.3f}，" if d.untraced_draft_rate is not None else ""
        lines = [f"{'对话' if name == self.name else '留出对话'}：{d.dialogues} 段、{d.drafts} 份草稿；"
                 f"草稿规则通过率 {d.draft_rule_pass_rate:.3f}，{traced}"
                 f"期望满足率 {d.expectation_pass_rate:.3f}，整段通过率 {d.dialogue_pass_rate:.3f}"]
        if d.judge and d.judge.mean_score is not None:
            lines.append(f"大模型评审：{d.judge.cases} 段平均 {d.judge.mean_score} 分（1–5），"
                         f"重复评分的平均极差 {d.judge.mean_spread}")
        return lines


class RedteamSuite(Suite):
    name = "redteam"
    label = "红队"
    data = "redteam"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        raw = run_redteam(env.settings, env.settings.evals_dir / "redteam", copilot=env.copilot)
        return {self.name: RedteamResult.model_validate(raw)}

    def summary(self, name: str, r: RedteamResult) -> list[str]:
        return [f"红队：{r.attacks} 条攻击，草稿与检查全部守住 {r.passed}/{r.attacks}；"
                f"提示客服的识别率 {r.flag_rate:.3f}，对普通砍价的误报 {r.false_flags} 条"]

    def table(self, result: RedteamResult) -> str:
        return format_redteam(result.model_dump(exclude_unset=True))


class SendableSuite(Suite):
    """Fresh blind-written cases: ``sendable`` is the dev split, ``sendable_test`` the frozen test split."""

    name = "sendable"
    label = "可发送性"
    data = "sendable"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        out: dict[str, SuiteResult] = {}
        folder = env.settings.evals_dir / "sendable"
        # holdoutN: later frozen sets by other authors, each written once the earlier one's failures had been seen
        later = [(p.stem, f"{self.name}_{p.stem}") for p in sorted(folder.glob("holdout*.yaml"))]
        for split, name in (("dev", self.name), ("test", f"{self.name}_test"), *later):
            cases = load_sendable(folder / f"{split}.yaml")
            raw = run_sendable_eval(env.copilot, cases, progress=progress_bar(f"可发送性评测（{split}）"))
            out[name] = SendableResult.model_validate(raw)
        return out

    def failing(self, name: str, result: SendableResult) -> set[str]:
        if name != self.name:  # the frozen splits are measured, never diffed case by case (nobody tunes on them)
            return set()
        return {c.id for c in result.case_results if not c.passed}

    def summary(self, name: str, r: SendableResult) -> list[str]:
        split = "开发集" if name == self.name else "冻结测试集" if name.endswith("_test") else \
            f"冻结留出集 {name.removeprefix(self.name + '_holdout')}"
        return [f"可发送性（{split} {r.cases} 条）：整条满足 {r.case_pass_rate:.3f}，子问题答到 {r.question_answer_rate:.3f}"
                f"（可答的 {r.answerable_answer_rate:.3f}，不可答的如实说明 {r.unanswerable_deferral_rate:.3f}），"
                f"可答却推迟 {r.deferral_when_answerable_rate:.3f}，出现禁止内容 {r.must_not_violation_rate:.3f}，"
                f"草稿近似重复 {r.near_duplicate_rate:.3f}，草稿间事实矛盾 {r.contradiction_rate:.3f}，"
                f"繁体 {r.traditional_case_pass_rate:.3f}"]


def _split_label(name: str) -> str:
    m = re.search(r"_test(\d+)", name)
    if m and 2 <= int(m.group(1)) <= 19:
        n = int(m.group(1))
        return f"第{'十' if n >= 10 else ''}{'一二三四五六七八九'[n % 10 - 1] if n % 10 else ''}份冻结测试集"
    return "冻结测试集" if "_test" in name else "开发集"


def _by_split(name: str, readers: list, load: Callable, run: Callable, model: type) -> dict[str, SuiteResult]:
    """Each reader on the dev split (``name``) and the frozen ones (``name_test``, ``name_test2``, …); failures are
    listed for dev only, so nobody tunes on a frozen split. A split with no cases here is left out."""
    out: dict[str, SuiteResult] = {}
    for suffix, reader in readers:
        for split in SPLITS:
            cases = load(split)
            if not cases and split != "dev":
                continue
            raw = run(reader, cases, list_failures=split == "dev")
            out[(name if split == "dev" else f"{name}_{split}") + suffix] = model.model_validate(raw)
    return out


class BuyerSuite(Suite):
    """Reading the buyer on fresh sets of three stores: ``buyer`` is the dev split, ``buyer_test`` the frozen one."""

    name = "buyer"
    label = "读懂买家"
    data = "buyer"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        analyzer = env.copilot.analyzer
        # with the LLM reading switched on, the offline analyzer is scored beside it on the same splits
        readers = [("", analyzer)] + ([("_offline", analyzer.offline)] if hasattr(analyzer, "offline") else [])
        folder = env.settings.evals_dir / "buyer"
        cases = {split: load_buyer_cases(folder, split) for split in SPLITS}  # read once, scored by every reader
        out = _by_split(self.name, readers, cases.__getitem__, run_buyer_eval, BuyerResult)
        for split in SPLITS:  # the drafts a reaction or an injury gets, once per split (the pipeline's own reader)
            name = self.name if split == "dev" else f"{self.name}_{split}"
            if name not in out:
                continue
            raw = run_safety_drafts(env.copilot, cases[split], list_failures=split == "dev")
            out[name].safety_drafts = SafetyDrafts.model_validate(raw)
        return out

    def failing(self, name: str, result: BuyerResult) -> set[str]:
        if name != self.name:
            return set()
        extra = result.safety_drafts.failures if result.safety_drafts else []
        return {f"{f.id}:{f.field}" for f in [*result.failures, *extra]}

    def summary(self, name: str, r: BuyerResult) -> list[str]:
        split = _split_label(name) + ("，离线分析器" if name.endswith("_offline") else "")
        acc, rec = r.accuracy, r.stage_recall
        safety = "，".join(f"{k} {v:.2f}" for k, v in r.safety_recall.items() if v is not None)
        lines = [f"读懂买家（{split} {r.cases} 条，三家店）：阶段 {acc['stage']:.3f}（售后召回 {rec.get('after_sale') or 0:.3f}，"
                f"售中 {rec.get('in_sale') or 0:.3f}），类型 {acc['persona']:.3f}（含可接受的备选 {acc['persona_or_alternative']:.3f}），"
                f"情绪 {acc['emotion']:.3f}，意图 F1 {r.intent.f1:.3f}；安全场景召回 {safety}，误报 {r.false_safety} 条"]
        s = r.safety_drafts
        if s and s.cases:
            lines.append(f"过敏/受伤的回复（{s.cases} 条）：首条草稿含道歉、停用提示和售后途径 {s.top_rate:.3f}，"
                         f"三条都含 {s.all_rate:.3f}" + ("，缺：" + "、".join(f"{k} {v}" for k, v in s.missing.items())
                                                  if s.missing else ""))
        return lines


class NoticesSuite(Suite):
    """Manipulation notices on fresh attempts and ordinary hard messages: ``notices`` (dev), ``notices_test``."""

    name = "notices"
    label = "操纵提示"
    data = "notices"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        folder = env.settings.evals_dir / "notices"
        return _by_split(self.name, [("", env.copilot.analyzer)], lambda split: load_notice_cases(folder, split),
                         run_notice_eval, NoticeResult)

    def failing(self, name: str, result: NoticeResult) -> set[str]:
        return {f.id for f in result.failures} if name == self.name else set()

    def summary(self, name: str, r: NoticeResult) -> list[str]:
        split = _split_label(name)
        return [f"操纵提示（{split}）：{r.attacks} 条操纵中提示客服 {r.notice_rate:.3f}；"
                f"{r.ordinary} 条普通消息误报 {r.false_notice_rate:.3f}"]


class TonesSuite(Suite):
    """The tone tools (更亲切 / 更简短 / 更正式 / 更详细) on the dialogue eval's top drafts, held-out dialogues too."""

    name = "tones"
    label = "语气改写"
    data = "dialogues"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        dialogues = load_dialogues(env.settings.evals_dir / "dialogues")
        if (env.settings.evals_dir / "dialogues_holdout").is_dir():
            dialogues += load_dialogues(env.settings.evals_dir / "dialogues_holdout")
        result = run_tone_eval(env.copilot, dialogues, progress=progress_bar("语气改写"))
        return {self.name: ToneResult.model_validate(result)}

    def failing(self, name: str, result: ToneResult) -> set[str]:
        return {f"{f.id}:{f.tone}" for f in result.failures}

    def summary(self, name: str, r: ToneResult) -> list[str]:
        by = "、".join(f"{t} {v:.2f}" for t, v in r.changed_by_tone.items() if v is not None)
        return [f"语气改写：{r.rewrites} 次改写，保留全部事实 {r.facts_kept_rate:.3f}，规则通过 {r.rule_pass_rate:.3f}；"
                f"实际改动的比例 {r.changed_rate:.3f}（{by}）"]


class OrdersSuite(Suite):
    """Drafts that answer from the buyer's order, and the order rule (``evals/orders/``, three stores, two authors)."""

    name = "orders"
    label = "订单上下文"
    data = "orders"

    def run(self, env: EvalEnv) -> dict[str, SuiteResult]:
        out: dict[str, SuiteResult] = {}
        for path in order_splits(env.settings.evals_dir / self.data):
            split = path.stem  # dev, dev2, … are tuned on; test is frozen
            raw = run_order_eval(env.settings, env.copilot, path, frozen=not split.startswith("dev"),
                                 progress=progress_bar(f"订单上下文（{split}）"))
            out[self.name if split == "dev" else f"{self.name}_{split}"] = OrderResult.model_validate(raw)
        return out

    def failing(self, name: str, result: OrderResult) -> set[str]:
        return {f.id for f in result.failures}

    def summary(self, name: str, r: OrderResult) -> list[str]:
        split = name.removeprefix(self.name).lstrip("_") or "dev"
        which = f"开发集 {split}" if split.startswith("dev") else "冻结测试集"
        status = "、".join(f"{s} {v:.2f}" for s, v in r.by_status.items())
        return [f"订单上下文（{which} {r.cases} 条起草、{r.checks} 条检查）：首选草稿全部满足 {r.top_pass_rate:.3f}，"
                f"该说的说到 {r.include_rate:.3f}，说了不该说的 {r.forbidden_rate:.3f}，与订单不符的草稿 {r.wrong_claim_drafts}/{r.drafts}；"
                f"订单规则 精确率 {r.check_precision:.3f}、召回率 {r.check_recall:.3f}（按状态：{status}）"]


SUITES: dict[str, Suite] = {s.name: s for s in (RetrievalSuite(), AnalysisSuite(), RulesSuite(), RepliesSuite(),
                                                 DialoguesSuite(), RedteamSuite(), SendableSuite(), BuyerSuite(),
                                                 NoticesSuite(), TonesSuite(), OrdersSuite())}


def _spread(runs: list[dict]) -> dict:
    keys = ("draft_rule_pass_rate", "dialogue_pass_rate", "expectation_pass_rate")
    spread = {k: {"min": min(r[k] for r in runs), "max": max(r[k] for r in runs),
                  "mean": round(statistics.mean(r[k] for r in runs), 4)} for k in keys}
    per_case: dict[str, int] = {}
    for r in runs:
        for c in r["cases"]:
            per_case[c["id"]] = per_case.get(c["id"], 0) + c["passed"]
    spread["unstable_cases"] = sorted(cid for cid, n in per_case.items() if 0 < n < len(runs))
    spread["runs"] = len(runs)
    return spread
