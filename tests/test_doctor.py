"""``copilot doctor``: what a store's knowledge lacks, and the no-answer threshold calibrated on its own questions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.app import cli
from copilot.app.service import Workspace
from copilot.drafting.io import DraftRequest
from copilot.drafting.pipeline import Copilot
from copilot.knowledge.calibration import (
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    CalibrationStore,
    builtin_negatives,
    choose_threshold,
    paraphrase,
)
from copilot.knowledge.doctor import diagnose
from copilot.knowledge.embedders import HashEmbedder
from copilot.knowledge.ingest import ingest
from copilot.retrieval.retriever import Retriever
from copilot.settings import Settings

from .conftest import NOW

CATALOG = """\
shop:
  name: 测试小铺
products:
  - sku: TB-01
    name: 纯棉印花床单
    aliases: [床单]
    category: 床上用品
    price: 129
    stock: 40
    faqs:
      - {q: 床单是什么材质的？, a: 面料是100%纯棉，40支纱，亲肤透气。}
      - {q: 床单有哪些尺寸可以选？, a: 有1.5米床和1.8米床两种尺寸，页面可选。}
      - {q: 床单第一次洗会掉色吗？, a: 采用活性印染，首次洗涤可能有轻微浮色，属正常现象。}
      - {q: 床单可以机洗吗？水温多少合适？, a: 可以机洗，建议30度以下冷水，不要漂白。}
      - {q: 床单会起球吗？, a: 长绒棉面料不易起球，建议与粗糙衣物分开洗。}
  - sku: GJ-01
    name: 不锈钢炒锅
    aliases: [炒锅]
    category: 厨房用具
    price: 199
    stock: 15
    faqs:
      - {q: 炒锅能用电磁炉吗？, a: 复合锅底，电磁炉、燃气灶、电陶炉都能用。}
      - {q: 炒锅多重？, a: 32厘米款约1.6公斤，带锅盖约2.1公斤。}
      - {q: 新锅第一次怎么开锅？, a: 清水煮沸后倒掉，擦干再用少许油润锅即可。}
      - {q: 炒锅会粘锅吗？, a: 热锅冷油、油温够了再下菜基本不粘，不要空烧。}
      - {q: 锅盖是什么材料？, a: 钢化玻璃锅盖，可视烹饪，耐热。}
"""
POLICY = """\
# 测试小铺 服务说明

## 发货与快递

付款后48小时内发货，默认发圆通快递。一般发货后2-4天送达。新疆、西藏暂不发货。
"""


def incomplete_store(root: Path, **kw) -> Settings:
    """Two categories, a policy with only a shipping section: no return rule, no invoice, no after-sale steps."""
    store = root / "knowledge" / "store"
    store.mkdir(parents=True)
    (store / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (store / "policies.md").write_text(POLICY, encoding="utf-8")
    kw.setdefault("embedder", "hash:64")
    return Settings(knowledge_dir=root / "knowledge", data_dir=root / "data", **kw)


@pytest.fixture
def small(tmp_path):
    settings = incomplete_store(tmp_path)
    ingest(settings, embedder=HashEmbedder(64))
    return settings


# ------------------------------------------------------------------ checks ---

def test_the_sample_store_passes_the_main_checks(real_index):
    settings, retriever, _ = real_index
    report = diagnose(settings, retriever, save=False, now=NOW)
    by_id = {c.id: c for c in report.checks}
    assert {"returns", "carriers", "ship_times", "regions", "invoice", "damage", "quality", "prices",
            "promotions", "files"} <= set(by_id)
    assert not report.gaps, report.text()
    assert report.counts["products"] >= 10 and report.counts["categories"] >= 3
    assert "顺丰" in by_id["carriers"].detail
    cal = report.calibration
    assert cal is not None and cal.threshold is not None and MIN_THRESHOLD <= cal.threshold <= MAX_THRESHOLD
    assert cal.faq_positives >= 50 and cal.eval_positives >= 50  # the store's FAQs and evals/retrieval.jsonl
    assert cal.builtin_negatives == len(builtin_negatives()) >= 20 and cal.eval_negatives >= 10
    assert not report.saved  # save=False: the shared index keeps its threshold


def test_an_incomplete_store_reports_exactly_its_gaps(small):
    report = diagnose(small, save=False)
    gaps = {c.id: c for c in report.gaps}
    assert set(gaps) == {"returns", "invoice", "damage", "quality"}, report.text()
    assert sorted(gaps["returns"].missing) == ["厨房用具", "床上用品"]
    assert "store/policies.md" in gaps["invoice"].detail and "发票" in gaps["invoice"].detail
    assert {"破损", "错发", "漏发"} <= set(gaps["damage"].missing)
    line = report.summary_line()
    assert line.startswith("店铺自检：4 项缺失（") and "发票" in line and "详见 copilot doctor" in line


def test_partial_after_sale_text_names_what_is_missing(tmp_path):
    settings = incomplete_store(tmp_path)
    with (settings.knowledge_dir / "store" / "policies.md").open("a", encoding="utf-8") as f:
        f.write("\n## 售后\n\n收到破损、错发或漏发的商品，请联系客服处理。质量问题请联系客服处理。\n")
    report = diagnose(settings, save=False)
    damage = next(c for c in report.checks if c.id == "damage")
    assert not damage.ok and set(damage.missing) == {"凭证", "时限"} and "照片" in damage.detail


def test_an_empty_or_missing_folder_gives_a_report_not_a_traceback(tmp_path):
    for kdir in (tmp_path / "nothing-here", tmp_path / "empty"):
        if kdir.name == "empty":
            kdir.mkdir()
        settings = Settings(knowledge_dir=kdir, data_dir=tmp_path / "data", embedder="hash:32")
        report = diagnose(settings)
        assert report.gaps and report.calibration is None
        assert any("copilot ingest" in w for w in report.warnings)
        assert report.threshold == settings.no_answer_threshold and report.threshold_source == "default"
        assert "店铺自检" in report.text()


def test_a_broken_catalog_and_unknown_faq_skus_are_reported(tmp_path):
    settings = incomplete_store(tmp_path)
    store = settings.knowledge_dir / "store"
    (store / "faqs.csv").write_text("问题,回答,分类,sku\n这款有货吗？,有现货。,库存,NOPE-9\n", encoding="utf-8")
    report = diagnose(settings, save=False)
    files = next(c for c in report.checks if c.id == "files")
    assert not files.ok and "NOPE-9" in files.detail
    (store / "catalog.yaml").write_text("products: [ {sku: ", encoding="utf-8")
    report = diagnose(settings, save=False)
    assert {"files", "prices"} <= {c.id for c in report.gaps}
    assert "store/catalog.yaml" in next(c for c in report.checks if c.id == "files").detail


# ------------------------------------------------------------- calibration ---

def test_choose_threshold_separates_and_breaks_ties_towards_the_default():
    t, bal = choose_threshold([0.30, 0.32, 0.35], [0.05, 0.10], default=0.26)
    assert bal == 1.0 and t == 0.26  # any value in (0.10, 0.30] separates: the default stays
    t, bal = choose_threshold([0.18, 0.2, 0.22], [0.05, 0.10], default=0.26)
    assert bal == 1.0 and 0.10 < t < 0.18
    assert paraphrase("床单可以机洗吗？水温多少合适？") == "可以机洗吗？水温多少"


def between(retriever: Retriever, low: float, high: float) -> str:
    """A buyer-like query whose best score lies in [low, high): pieces of the store's own FAQ text, scanned in order."""
    texts = [c.text.replace("问：", "").replace("答：", "") for c in retriever.index().chunks if c.kind == "faq"]
    for size in (4, 5, 6, 3):
        for text in texts:
            for i in range(0, max(1, len(text) - size), 2):
                q = text[i:i + size].strip("，。？！\n ")
                if len(q) >= 3 and low <= retriever.search(q, 1).hits[0].score < high:
                    return q
    raise AssertionError(f"no query scores in [{low}, {high})")


def test_the_calibrated_threshold_is_the_one_search_and_drafting_use(small):
    ws = Workspace(small, Copilot(small, backend=None))
    assert ws.copilot.retriever.no_answer_threshold == 0.26  # not calibrated yet: the setting's default
    report = ws.doctor()
    cal = report.calibration
    assert report.saved and cal is not None and cal.positives >= 8 and report.threshold_source == "calibrated"
    t = ws.copilot.retriever.no_answer_threshold
    assert t == cal.threshold == report.threshold < 0.26
    stored = json.loads((small.data_dir / "calibration.json").read_text(encoding="utf-8"))
    assert stored["generations"][report.generation]["threshold"] == t  # kept with the index generation

    retriever = ws.copilot.retriever
    query = between(retriever, t, 0.26)
    result = retriever.search(query, 3)
    assert result.grounded and result.threshold == t
    drafted = ws.draft(DraftRequest(message=query, now=datetime.fromisoformat("2026-11-23T12:00:00+08:00")))
    assert drafted.grounded

    # the same index and calibration, with the user's own threshold: theirs wins, in search and in drafting
    explicit = small.model_copy(update={"no_answer_threshold": 0.26})
    mine = Retriever(explicit, store=retriever.store, embedder=retriever.embedder)
    assert mine.no_answer_threshold == 0.26
    assert not mine.search(query, 3).grounded
    assert not Copilot(explicit, retriever=mine, backend=None).draft(DraftRequest(message=query)).grounded
    assert diagnose(explicit, mine, save=False).threshold_source == "explicit"


def test_an_explicit_threshold_from_the_environment_wins(small, monkeypatch):
    Workspace(small, Copilot(small, backend=None)).doctor()
    monkeypatch.setenv("COPILOT_NO_ANSWER_THRESHOLD", "0.31")
    env = Settings(knowledge_dir=small.knowledge_dir, data_dir=small.data_dir, embedder="hash:64")
    retriever = Retriever(env)
    assert retriever.no_answer_threshold == 0.31 and retriever.search("床单什么材质", 1).threshold == 0.31
    assert CalibrationStore(env).get(retriever.index().generation.name).threshold < 0.26  # still stored, not used


def test_too_few_questions_keep_the_default(tmp_path):
    settings = incomplete_store(tmp_path)
    few = [line for line in CATALOG.splitlines() if "{q:" not in line or "床单是什么材质" in line or "炒锅多重" in line]
    (settings.knowledge_dir / "store" / "catalog.yaml").write_text("\n".join(few) + "\n", encoding="utf-8")
    ingest(settings, embedder=HashEmbedder(64))
    report = diagnose(settings)
    assert report.calibration is not None and report.calibration.threshold is None
    assert report.calibration.positives < 8 and report.threshold == 0.26 and report.threshold_source == "default"
    assert "不足 8 条" in report.summary_line()


def test_a_retrieval_eval_next_to_the_knowledge_folder_joins_the_calibration(small):
    evals = small.knowledge_dir.parent / "evals"
    evals.mkdir()
    rows = [{"id": "a1", "query": "床单是纯棉的吗", "relevant": ["product/TB-01"]},
            {"id": "a2", "query": "锅底能上电磁炉吗", "relevant": ["faq/GJ-01/炒锅能用电磁炉吗？"]},
            {"id": "n1", "query": "你们店里卖汽车吗", "relevant": []},
            {"id": "x", "query": "标错的问题", "relevant": ["policy/不存在的小节"]}]
    (evals / "retrieval.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{坏行\n",
                                           encoding="utf-8")
    cal = diagnose(small, save=False).calibration
    assert cal.eval_positives == 2 and cal.eval_negatives == 1 and cal.eval_path.endswith("retrieval.jsonl")
    report = diagnose(small, save=False, eval_path=evals / "missing.jsonl")
    assert any("不存在" in w for w in report.warnings) and report.calibration.eval_positives == 0


# ------------------------------------------------------------------- edges ---

def test_cli_doctor_and_ingest_print_chinese(tmp_path):
    settings = incomplete_store(tmp_path)
    base = ["--knowledge-dir", str(settings.knowledge_dir), "--data-dir", str(settings.data_dir), "--embedder", "hash:64"]
    runner = CliRunner()
    out = runner.invoke(cli.app, [*base, "ingest"])
    assert out.exit_code == 0, out.output
    line = [x for x in out.output.splitlines() if x.startswith("店铺自检：")]
    assert len(line) == 1 and "4 项缺失" in line[0] and "按" in line[0] and "本店问题校准" in line[0]
    out = runner.invoke(cli.app, [*base, "doctor"])
    assert out.exit_code == 0, out.output
    assert "✗ 发票" in out.output and "✓ 快递公司" in out.output and "无答案阈值" in out.output
    out = runner.invoke(cli.app, [*base, "doctor", "--json"])
    data = json.loads(out.output)
    assert {c["id"] for c in data["checks"] if not c["ok"]} == {"returns", "invoice", "damage", "quality"}
    assert data["threshold_source"] == "calibrated" and data["calibration"]["positives"] >= 8


def test_the_workspace_reindex_recalibrates_the_new_generation(small):
    ws = Workspace(small, Copilot(small, backend=None))
    first = ws.doctor().generation
    with (small.knowledge_dir / "store" / "policies.md").open("a", encoding="utf-8") as f:
        f.write("\n## 发票\n\n支持电子普通发票，确认收货后在订单详情页申请。\n")
    ws.reindex()
    report = ws.last_doctor
    assert report is not None and report.generation != first and report.saved
    assert "invoice" not in {c.id for c in report.gaps}
    assert CalibrationStore(small).get(report.generation) is not None
    assert ws.copilot.retriever.no_answer_threshold == report.threshold
