"""``copilot eval``: run the suites, apply thresholds, diff against a baseline, write reports."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..drafting.llm import get_backend
from ..drafting.pipeline import Copilot
from ..errors import InputError
from ..rules.checking import Checker
from ..settings import Settings
from .html import render_html
from .results import BaselineDiff, DialoguesResult, EvalMeta, EvalRun, ThresholdCheck
from .suites import SUITES, EvalEnv, Suite


def evaluate(settings: Settings, suites: tuple[str, ...], *, report_dir: Path | None = None,
             baseline: Path | None = None, **options) -> tuple[EvalRun, tuple[Path, Path] | None]:
    """Run the suites, judge them against ``evals/thresholds.yaml`` (and a baseline), write the report.

    Returns (run, (results.json, report.html) or None). The CLI and the workspace both call this; ``progress``
    (in ``options``) hears (suite name, suites done, suites to run) before each suite and once at the end."""
    run = run_suites(settings, suites, **options)
    run.thresholds = check_thresholds(run.to_dict(), settings.evals_dir / "thresholds.yaml")
    if baseline is not None:
        run.baseline_diff = diff_baseline(run, baseline)
    return run, (write_report(run, report_dir) if report_dir is not None else None)


def store_settings(settings: Settings, knowledge: Path) -> Settings:
    """The settings for evaluating another store's folder: its knowledge, its own eval sets (``<store>/evals``
    next to ``<store>/knowledge``, else the current ones) and an index of its own under the data dir, so two
    stores never share an index."""
    knowledge = Path(knowledge)
    if not (knowledge / "store").is_dir() and not (knowledge / "docs").is_dir():
        raise InputError(f"不是知识目录（缺少 store/ 或 docs/）：{knowledge}", message_en=f"not a knowledge dir: {knowledge}",
                         hint="指向店铺的 knowledge 目录，例如 stores/tea/knowledge")
    evals = knowledge.resolve().parent / "evals"
    slug = knowledge.resolve().parent.name if knowledge.name == "knowledge" else knowledge.resolve().name
    return settings.model_copy(update={
        "knowledge_dir": knowledge,
        "evals_dir": evals if evals.is_dir() else settings.evals_dir,
        "data_dir": settings.data_dir / "stores" / slug,
    })


def run_suites(settings: Settings, suites: tuple[str, ...], *, backend: str | None = None, repeat: int = 1,
               judge: int = 0, sweep: bool = False,
               progress: Callable[[str, int, int], None] | None = None) -> EvalRun:
    if suites == ("all",):  # every suite this store has data for
        suites = tuple(name for name, s in SUITES.items() if s.available(settings))
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise InputError(f"未知的评测：{'、'.join(unknown)}（可用：{'、'.join(SUITES)}、all）", message_en=f"unknown suite {unknown}")
    if not 1 <= repeat <= 20:
        raise InputError("--repeat 必须在 1 到 20 之间", message_en="repeat must be 1..20")
    t0 = time.perf_counter()
    chat = get_backend(settings, backend)
    copilot = Copilot(settings, backend=chat)
    env = EvalEnv(settings, copilot, Checker(settings, catalog=copilot.current_catalog), repeat=repeat, judge=judge,
                  sweep=sweep)
    run = EvalRun(meta=EvalMeta(
        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), backend=chat.name if chat else "offline",
        embedder=settings.embedder, repeat=repeat, suites=list(suites),
    ))
    results: dict = {}
    todo = [name for name in SUITES if name in suites]  # registry order, whatever order they were asked in
    for done, name in enumerate(todo):
        if progress is not None:
            progress(name, done, len(todo))
        results.update(SUITES[name].run(env))
    if progress is not None:
        progress("", len(todo), len(todo))
    run.suites = results
    run.meta.seconds = round(time.perf_counter() - t0, 2)
    return run


def _suite_of(name: str) -> Suite:
    """The registered suite a result belongs to (``rules_holdout_v2`` is the rules suite's)."""
    return SUITES.get(name) or next(s for s in SUITES.values() if name.startswith(s.name + "_"))


# ------------------------------------------------------------ thresholds ---


def _expand(node, parts: list[str], prefix: str):
    """Yield (path, value) for a dotted path in which ``*`` matches every key."""
    if not parts:
        yield prefix, node
        return
    head, rest = parts[0], parts[1:]
    if not isinstance(node, dict):
        return
    keys = list(node) if head == "*" else ([head] if head in node else [])
    for k in keys:
        yield from _expand(node[k], rest, f"{prefix}.{k}" if prefix else k)


def check_thresholds(result: dict, path: Path) -> list[ThresholdCheck]:
    """``evals/thresholds.yaml`` maps a dotted metric path (``*`` allowed) to its minimum (``minimums``) or, for
    rates that must stay low, its maximum (``maximums``)."""
    if not path.exists():
        return []
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for section, low in (("minimums", True), ("maximums", False)):
        for metric, bound in (spec.get(section) or {}).items():
            if metric.split(".")[0] not in result["suites"]:
                continue
            found = False
            for name, value in _expand(result["suites"], metric.split("."), ""):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    found = True
                    out.append(ThresholdCheck(metric=name, value=value, passed=value >= bound if low else value <= bound,
                                              **({"min": bound} if low else {"max": bound})))
            if not found:
                out.append(ThresholdCheck(metric=metric, value=0.0, passed=False, **({"min": bound} if low else {"max": bound})))
    return out


# -------------------------------------------------------------- baseline ---


def failing_keys(run: EvalRun) -> dict[str, set[str]]:
    """Failing case keys per registered suite (held-out rule sets are measured, not diffed)."""
    keys: dict[str, set[str]] = {}
    for name, result in run.suites.items():
        if name in SUITES:
            keys[name] = SUITES[name].failing(name, result)
    return keys


def diff_baseline(run: EvalRun, baseline_dir: Path) -> BaselineDiff:
    path = baseline_dir / "results.json" if baseline_dir.is_dir() else baseline_dir
    if not path.exists():
        raise InputError(f"找不到基线结果：{path}", message_en=f"baseline {path} not found",
                         hint="先用 copilot eval --report DIR 生成一次结果，再用 --baseline DIR 对比")
    try:
        base = EvalRun.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise InputError(f"基线结果不是合法的评测结果：{path}", message_en=str(exc)) from None
    now_keys, base_keys = failing_keys(run), failing_keys(base)
    newly_failing, newly_passing = [], []
    for suite in now_keys.keys() & base_keys.keys():
        newly_failing += [f"{suite}:{k}" for k in sorted(now_keys[suite] - base_keys[suite])]
        newly_passing += [f"{suite}:{k}" for k in sorted(base_keys[suite] - now_keys[suite])]
    dialogues = run.suites.get("dialogues")
    cases = {c.id: c for c in dialogues.cases} if isinstance(dialogues, DialoguesResult) else {}
    details = []
    for key in newly_failing:
        if key.startswith("dialogues:") and key.split(":", 1)[1] in cases:
            c = cases[key.split(":", 1)[1]]
            details.append({"key": key, "failures": [f.model_dump() for f in c.failures]})
    return BaselineDiff(baseline=str(path), newly_failing=newly_failing, newly_passing=newly_passing, details=details)


# --------------------------------------------------------------- reports ---


def write_report(run: EvalRun, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = run.to_dict()
    json_path = out_dir / "results.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(data), encoding="utf-8")
    return json_path, html_path


def summary_lines(run: EvalRun) -> list[str]:
    lines = [f"评测完成：后端 {run.meta.backend}，用时 {run.meta.seconds} 秒"]
    for name, result in run.suites.items():
        lines += _suite_of(name).summary(name, result)
    for t in run.thresholds:
        if not t.passed:
            lines.append(f"✗ 未达阈值：{t.metric} = {t.value:.3f}，要求 {t.bound}")
    diff = run.baseline_diff
    if diff:
        lines.append(f"与基线相比：新失败 {len(diff.newly_failing)} 条，新通过 {len(diff.newly_passing)} 条")
        lines += [f"  新失败：{k}" for k in diff.newly_failing[:20]]
    return lines


def suite_table(name: str, run: EvalRun) -> str | None:
    """The detailed text of one suite's result (for ``copilot eval NAME``)."""
    return SUITES[name].table(run.suites[name]) if name in run.suites else None
