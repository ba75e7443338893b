"""``copilot doctor``: what a store's knowledge folder lacks for good drafts, and its no-answer threshold.

``diagnose(settings)`` reads the knowledge folder (layout in ``layout``: the catalog, ``store/*.md`` policies
with ``##`` sections, ``store/*.csv`` FAQs, ``docs/``) with the same loaders ingest uses and reports, per topic,
whether the store's own text answers what buyers ask every day — return/exchange rules per catalog category,
carriers, dispatch and delivery times, regions not served, invoices, after-sale steps for damaged/wrong/missing
goods and for quality problems (what proof, how fast), prices and stock for every product, promotions with
their times — plus files that do not load and catalog/FAQ warnings. Topics are found by generic Chinese
e-commerce words (``doctor_topics``), never by one shop's products. It then calibrates the no-answer threshold
on the store's own questions (``calibration``) and stores it with the active index generation.

A missing or empty knowledge folder gives a report saying so, not a traceback.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from ..errors import CopilotError, IndexUnavailableError, KnowledgeFileError
from ..settings import Settings
from ..text.chunking import ChunkerConfig
from .calibration import (
    MIN_POSITIVES,
    Calibration,
    CalibrationStore,
    ThresholdSource,
    calibrate,
    explicit_threshold,
)
from .catalog import load_store_catalog
from .layout import KnowledgeLayout, kind_of
from .loaders import decode, faq_csv_warnings, load_file, scan


class Check(BaseModel):
    id: str
    topic: str
    ok: bool
    detail: str = Field(description="what the store states, or what to add and to which file")
    missing: list[str] = Field(default_factory=list)


class DoctorReport(BaseModel):
    knowledge_dir: str
    shop: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    generation: str = ""
    calibration: Calibration | None = None
    threshold: float
    threshold_source: ThresholdSource = "default"
    saved: bool = False  # the calibration was stored with the index

    @property
    def gaps(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def threshold_text(self) -> str:
        cal = self.calibration
        if self.threshold_source == "calibrated" and cal is not None:
            return f"无答案阈值 {self.threshold:.2f}（按 {cal.positives} 条本店问题校准）"
        if self.threshold_source == "explicit":
            also = f"；本店校准值 {cal.threshold:.2f}" if cal is not None and cal.threshold is not None else ""
            return f"无答案阈值 {self.threshold:.2f}（你设置的值{also}）"
        if cal is None:
            why = "还没有可用的索引"
        elif cal.threshold is None:
            why = f"本店问题不足 {MIN_POSITIVES} 条"
        else:
            why = f"校准值 {cal.threshold:.2f} 未保存"
        return f"无答案阈值 {self.threshold:.2f}（默认值：{why}）"

    def summary_line(self) -> str:
        gaps = self.gaps
        head = f"{len(gaps)} 项缺失（{'、'.join(c.topic for c in gaps)}）" if gaps else "各项齐全"
        return f"店铺自检：{head}；{self.threshold_text()}。详见 copilot doctor"

    def lines(self) -> list[str]:
        c = self.counts
        out = [f"店铺自检：{self.shop or '（未命名店铺）'}（{self.knowledge_dir}）",
               f"商品 {c.get('products', 0)} 个、品类 {c.get('categories', 0)} 个、政策小节 {c.get('policy_sections', 0)} 个、"
               f"问答 {c.get('faqs', 0)} 条、话术资料 {c.get('docs', 0)} 篇", ""]
        for check in self.checks:
            out.append(f"{'✓' if check.ok else '✗'} {check.topic}：{check.detail}")
        if self.warnings:
            out += ["", "注意："] + [f"- {w}" for w in self.warnings]
        out += ["", self.threshold_text()]
        cal = self.calibration
        if cal is not None and cal.threshold is not None:
            out.append(
                f"  正例 {cal.positives} 条（问答改写 {cal.faq_positives} + 评测可回答问题 {cal.eval_positives}），"
                f"反例 {cal.negatives} 条（评测知识库外问题 {cal.eval_negatives} + 内置无关问题 {cal.builtin_negatives}）")
            out.append(f"  在该阈值下：可回答的问题被判为无答案 {cal.false_no_answer_rate:.1%}，"
                       f"无关问题被当成有答案 {cal.false_answer_rate:.1%}")
            if cal.default_false_no_answer_rate is not None:
                out.append(f"  对照默认值 {cal.default:.2f}：{cal.default_false_no_answer_rate:.1%} / "
                           f"{cal.default_false_answer_rate:.1%}")
        if cal is not None and cal.note:
            out.append(f"  {cal.note}")
        if cal is not None and cal.eval_path:
            out.append(f"  评测文件：{cal.eval_path}")
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    def markdown(self) -> str:
        body = []
        for line in self.lines():
            body.append(line if not line.startswith(("✓", "✗")) else f"- {line}")
        return "\n\n".join(x for x in body if x)



@dataclass
class Unit:
    """One piece of store text that can state a rule: a policy section or a FAQ pair."""

    kind: str  # policy | faq
    source: str
    label: str
    text: str
    sku: str = ""


@dataclass
class StoreText:
    root: Path
    catalog: object | None = None  # knowledge.catalog.Catalog
    catalog_error: str = ""
    units: list[Unit] = field(default_factory=list)
    docs: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # sanitising removed something: said, not a gap
    catalog_warnings: list[str] = field(default_factory=list)  # unknown fields, unknown SKUs, duplicates …
    policy_files: list[str] = field(default_factory=list)
    faq_files: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # files that do not load (reported once, as problems)

    @property
    def policy_file(self) -> str:
        return self.policy_files[0] if self.policy_files else "store/policies.md"

    @property
    def faq_file(self) -> str:
        return self.faq_files[0] if self.faq_files else "store/faqs.csv"

    @property
    def products(self) -> list:
        return list(getattr(self.catalog, "products", None) or [])


def store_catalog(root: Path):
    """(the store's merged catalog or None, its warnings, why it does not load or "")."""
    try:
        cat = load_store_catalog(root)
    except KnowledgeFileError as exc:
        return None, [], f"{exc.path}：{exc.reason}"
    if not cat.products and not KnowledgeLayout(root).catalog_files():
        return None, [], ""
    return cat, list(cat.warnings), ""


def read_store(settings: Settings) -> StoreText:
    """Every policy section and FAQ pair of the knowledge folder, the catalog, and what failed to load."""
    root = Path(settings.knowledge_dir)
    st = StoreText(root=root)
    if not root.is_dir():
        return st
    cfg = ChunkerConfig(target=settings.chunk_size, overlap=settings.chunk_overlap)
    for path, rel in scan(root):
        try:
            st.hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            pass
        kind = kind_of(rel)
        if kind == "policy":
            st.policy_files.append(rel)
        elif kind == "faq_csv":
            st.faq_files.append(rel)
        try:
            chunks = load_file(path, rel, cfg)
        except KnowledgeFileError as exc:
            st.problems.append(f"{rel}：{exc.reason}")
            st.broken.add(rel)
            continue
        for c in chunks:
            if c.flags:
                st.warnings.append(f"{rel}：已移除疑似指令或站外联系方式的内容（{c.flags[0][:40]}）")
            if c.kind == "doc":
                continue
            if c.kind == "policy":
                st.units.append(Unit("policy", rel, f"{rel} · {c.title}", f"{c.title}\n{c.text}"))
            elif c.kind == "faq":
                q = c.text.split("\n", 1)[0].removeprefix("问：")
                st.units.append(Unit("faq", rel, f"{rel}：{q}", c.text, sku=c.sku))
        st.docs += len({c.source for c in chunks if c.kind == "doc"})
    st.catalog, st.catalog_warnings, st.catalog_error = store_catalog(root)
    skus = {p.sku.lower() for p in st.products} if st.catalog is not None else None
    for rel in st.faq_files:  # columns no loader reads, rows whose sku the catalog lacks
        if rel not in st.broken:
            try:
                st.catalog_warnings += faq_csv_warnings(decode((root / rel).read_bytes(), rel), rel, skus)
            except (KnowledgeFileError, OSError):
                continue
    if st.catalog_error and not any(kind_of(rel) == "catalog" for rel in st.broken):  # else already said
        st.problems.append(st.catalog_error)
    return st


def _index_warnings(retriever, st: StoreText) -> tuple[str, list[str]]:
    """(active generation name, warnings about the index: missing, built by another model, older than the files)."""
    try:
        gen = retriever.index().generation
    except IndexUnavailableError as exc:
        return "", [f"{exc.message}：运行 copilot ingest 建立索引后才能校准无答案阈值"]
    except CopilotError as exc:
        return "", [f"索引无法使用：{exc.message}" + (f"（{exc.hint}）" if exc.hint else "")]
    changed = sorted(k for k in {*gen.manifest, *st.hashes} - st.broken if gen.manifest.get(k) != st.hashes.get(k))
    if changed:
        return gen.name, [f"索引建立后知识文件有变化（{'、'.join(changed[:5])}{' 等' if len(changed) > 5 else ''}），"
                          "运行 copilot ingest 或在工作台点「重建索引」后生效"]
    return gen.name, []


def diagnose(settings: Settings, retriever=None, *, eval_path: Path | None = None, save: bool = True,
             now: datetime | None = None) -> DoctorReport:
    """Check the store's knowledge folder and calibrate its no-answer threshold on the active index.

    ``retriever`` is the one serving the index (a new one if None); ``eval_path`` overrides the retrieval eval
    file (default ``<knowledge_dir>/../evals/retrieval.jsonl``); with ``save`` the calibration is stored with the
    index so that search and drafting use it."""
    from .doctor_topics import (
        run_checks,  # the topic rules, kept apart from the report plumbing
    )

    st = read_store(settings)
    report = DoctorReport(knowledge_dir=str(settings.knowledge_dir), threshold=settings.no_answer_threshold,
                          threshold_source="explicit" if explicit_threshold(settings) else "default")
    cat = st.catalog
    report.shop = getattr(getattr(cat, "shop", None), "name", "") or ""
    report.counts = {
        "products": len(st.products),
        "categories": len({p.category for p in st.products}),
        "policy_sections": sum(1 for u in st.units if u.kind == "policy"),
        "faqs": sum(1 for u in st.units if u.kind == "faq"),
        "docs": st.docs,
    }
    if not st.root.is_dir():
        report.warnings.append(f"知识目录不存在：{st.root}（用 --knowledge-dir 或 COPILOT_KNOWLEDGE_DIR 指定店铺的知识目录）")
    elif not st.hashes:
        report.warnings.append(f"知识目录 {st.root} 是空的：按下面各项补充 store/ 下的商品目录、政策和问答")
    report.checks = run_checks(st, now)
    report.warnings += st.warnings
    if st.root.is_dir() and not st.docs:
        report.warnings.append("docs/ 下没有话术资料（.txt/.md 文章）：起草只按内置话术，可放入本店的客服话术与买家心理文章")
    if retriever is None:
        from ..retrieval.retriever import (
            Retriever,  # the one upward import: a standalone doctor needs a searcher
        )

        retriever = Retriever(settings)
    report.generation, more = _index_warnings(retriever, st)
    report.warnings += more
    if report.generation:
        try:
            cal, more = calibrate(settings, retriever, eval_path=eval_path)
        except CopilotError as exc:
            report.warnings.append(f"无法校准无答案阈值：{exc.message}")
        else:
            report.calibration = cal
            report.warnings += more
            if save:
                try:
                    CalibrationStore(settings).save(cal)
                    report.saved = True
                except OSError as exc:
                    report.warnings.append(f"校准结果无法保存到 {settings.data_dir}（{exc.strerror or exc}），本次仍使用原阈值")
        store = CalibrationStore(settings)
        report.threshold = store.threshold(report.generation)
        report.threshold_source = store.source(report.generation)
    return report
