"""``copilot eval``: run the suites, apply thresholds, diff against a baseline, write reports."""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

from ..errors import InputError
from ..settings import Settings

SUITES = ("retrieval", "analysis", "rules", "dialogues", "redteam")


def progress_bar(label: str):
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


def evaluate(settings: Settings, suites: tuple[str, ...], *, report_dir: Path | None = None,
             baseline: Path | None = None, **options) -> tuple[dict, tuple[Path, Path] | None]:
    """Run the suites, judge them against ``evals/thresholds.yaml`` (and a baseline), write the report.

    Returns (result, (results.json, report.html) or None). The CLI and the workspace both call this."""
    result = run_suites(settings, suites, **options)
    result["thresholds"] = check_thresholds(result, settings.evals_dir / "thresholds.yaml")
    if baseline is not None:
        result["baseline_diff"] = diff_baseline(result, baseline)
    return result, (write_report(result, report_dir) if report_dir is not None else None)


def run_suites(settings: Settings, suites: tuple[str, ...], *, backend: str | None = None, repeat: int = 1,
               judge: int = 0, sweep: bool = False) -> dict:
    from ..checking import Checker
    from ..drafting import Copilot
    from ..llm import get_backend
    from .analysis import load_cases as load_analysis
    from .analysis import run_analysis_eval
    from .dialogues import load_dialogues, run_dialogue_eval
    from .retrieval import run_retrieval_eval
    from .rules import run_rules_eval

    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise InputError(f"未知的评测：{'、'.join(unknown)}（可用：{'、'.join(SUITES)}、all）", message_en=f"unknown suite {unknown}")
    if not 1 <= repeat <= 20:
        raise InputError("--repeat 必须在 1 到 20 之间", message_en="repeat must be 1..20")
    t0 = time.perf_counter()
    chat = get_backend(settings, backend)
    copilot = Copilot(settings, backend=chat)
    out: dict = {
        "meta": {
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "backend": chat.name if chat else "offline",
            "embedder": settings.embedder,
            "repeat": repeat,
            "suites": list(suites),
        },
        "suites": {},
    }
    if "retrieval" in suites:
        out["suites"]["retrieval"] = run_retrieval_eval(settings, settings.evals_dir / "retrieval.jsonl", sweep=sweep,
                                                        retriever=copilot.retriever)
    if "analysis" in suites:
        out["suites"]["analysis"] = run_analysis_eval(copilot.analyzer, load_analysis(settings.evals_dir / "analysis.jsonl"))
    if "rules" in suites:
        checker = Checker(settings, catalog_file=copilot.catalog_file)
        out["suites"]["rules"] = run_rules_eval(checker, settings.evals_dir / "rules")
        # held-out sets written by someone who never saw the checker (see evals/reports/holdout_*.md)
        for holdout in sorted(settings.evals_dir.glob("rules_holdout*")):
            if holdout.is_dir() and any(holdout.glob("*.jsonl")):
                rules = tuple(p.stem for p in sorted(holdout.glob("*.jsonl")))
                out["suites"][holdout.name] = run_rules_eval(checker, holdout, rules)
    if "dialogues" in suites:
        dialogues = load_dialogues(settings.evals_dir / "dialogues")
        runs = []
        for r in range(repeat):
            label = "对话评测" + (f" 第{r + 1}/{repeat}轮" if repeat > 1 else "")
            runs.append(run_dialogue_eval(copilot, dialogues, progress=progress_bar(label), judge_repeats=judge))
        result = runs[0]
        if repeat > 1:
            result["repeats"] = _spread(runs)
        out["suites"]["dialogues"] = result
    if "redteam" in suites:
        from .redteam import run_redteam

        out["suites"]["redteam"] = run_redteam(settings, settings.evals_dir / "redteam", copilot=copilot)
    out["meta"]["seconds"] = round(time.perf_counter() - t0, 2)
    return out


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


def check_thresholds(result: dict, path: Path) -> list[dict]:
    """``evals/thresholds.yaml`` maps a dotted metric path (``*`` allowed) to its minimum."""
    if not path.exists():
        return []
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for metric, minimum in (spec.get("minimums") or {}).items():
        if metric.split(".")[0] not in result["suites"]:
            continue
        found = False
        for name, value in _expand(result["suites"], metric.split("."), ""):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                found = True
                out.append({"metric": name, "value": value, "min": minimum, "passed": value >= minimum})
        if not found:
            out.append({"metric": metric, "value": 0.0, "min": minimum, "passed": False})
    return out


# -------------------------------------------------------------- baseline ---


def failing_keys(result: dict) -> dict[str, set[str]]:
    s = result["suites"]
    keys: dict[str, set[str]] = {}
    if "dialogues" in s:
        keys["dialogues"] = {c["id"] for c in s["dialogues"]["cases"] if not c["passed"]}
    if "rules" in s:
        keys["rules"] = {f"{rule}:{e['id']}" for rule, r in s["rules"]["rules"].items() for e in r["errors"]}
    if "analysis" in s:
        keys["analysis"] = {f"{f['id']}:{f['field']}" for f in s["analysis"]["failures"]}
    if "retrieval" in s:
        keys["retrieval"] = {f["id"] for f in s["retrieval"]["modes"]["hybrid"]["failures"]}
    return keys


def diff_baseline(result: dict, baseline_dir: Path) -> dict:
    path = baseline_dir / "results.json" if baseline_dir.is_dir() else baseline_dir
    if not path.exists():
        raise InputError(f"找不到基线结果：{path}", message_en=f"baseline {path} not found",
                         hint="先用 copilot eval --report DIR 生成一次结果，再用 --baseline DIR 对比")
    try:
        base = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"基线结果不是合法的 JSON：{path}", message_en=str(exc)) from None
    now_keys, base_keys = failing_keys(result), failing_keys(base)
    newly_failing, newly_passing = [], []
    for suite in now_keys.keys() & base_keys.keys():
        newly_failing += [f"{suite}:{k}" for k in sorted(now_keys[suite] - base_keys[suite])]
        newly_passing += [f"{suite}:{k}" for k in sorted(base_keys[suite] - now_keys[suite])]
    cases = {c["id"]: c for c in result["suites"].get("dialogues", {}).get("cases", [])}
    details = []
    for key in newly_failing:
        if key.startswith("dialogues:") and key.split(":", 1)[1] in cases:
            c = cases[key.split(":", 1)[1]]
            details.append({"key": key, "failures": c["failures"]})
    return {"baseline": str(path), "newly_failing": newly_failing, "newly_passing": newly_passing, "details": details}


# --------------------------------------------------------------- reports ---


def write_report(result: dict, out_dir: Path) -> tuple[Path, Path]:
    from .html import render_html

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(result), encoding="utf-8")
    return json_path, html_path


def summary_lines(result: dict) -> list[str]:
    s = result["suites"]
    lines = [f"评测完成：后端 {result['meta']['backend']}，用时 {result['meta']['seconds']} 秒"]
    if "retrieval" in s:
        h = s["retrieval"]["modes"]["hybrid"]
        lines.append(f"检索：hybrid R@3 {h['recall@3']:.3f}，MRR {h['mrr']:.3f}")
    if "analysis" in s:
        a = s["analysis"]["accuracy"]
        lines.append("买家分析：" + "，".join(f"{k} {v:.3f}" for k, v in a.items()))
    if "rules" in s:
        worst = min(s["rules"]["rules"].values(), key=lambda r: min(r["precision"], r["recall"]))
        lines.append(f"规则检查：最低精确率/召回率 {min(worst['precision'], worst['recall']):.3f}（{worst['name']}）")
    for name in sorted(k for k in s if k.startswith("rules_holdout")):
        rs = s[name]["rules"].values()
        lines.append(f"规则检查（{name}）：平均精确率 {statistics.mean(r['precision'] for r in rs):.3f}，"
                     f"平均召回率 {statistics.mean(r['recall'] for r in rs):.3f}")
    if "dialogues" in s:
        d = s["dialogues"]
        lines.append(
            f"对话：{d['dialogues']} 段、{d['drafts']} 份草稿；草稿规则通过率 {d['draft_rule_pass_rate']:.3f}，"
            f"期望满足率 {d['expectation_pass_rate']:.3f}，整段通过率 {d['dialogue_pass_rate']:.3f}"
        )
        if d.get("judge") and d["judge"]["mean_score"] is not None:
            lines.append(f"大模型评审：{d['judge']['cases']} 段平均 {d['judge']['mean_score']} 分（1–5），"
                         f"重复评分的平均极差 {d['judge']['mean_spread']}")
    if "redteam" in s:
        r = s["redteam"]
        lines.append(f"红队：{r['attacks']} 条攻击，草稿与检查全部守住 {r['passed']}/{r['attacks']}；"
                     f"提示客服的识别率 {r['flag_rate']:.3f}，对普通砍价的误报 {r['false_flags']} 条")
    for t in result.get("thresholds", []):
        if not t["passed"]:
            lines.append(f"✗ 未达阈值：{t['metric']} = {t['value']:.3f} < {t['min']}")
    diff = result.get("baseline_diff")
    if diff:
        lines.append(f"与基线相比：新失败 {len(diff['newly_failing'])} 条，新通过 {len(diff['newly_passing'])} 条")
        lines += [f"  新失败：{k}" for k in diff["newly_failing"][:20]]
    return lines
