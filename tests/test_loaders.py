"""Loaders turn each knowledge file into chunks, or a clear error naming the file."""

import pytest

from copilot.errors import KnowledgeFileError
from copilot.knowledge.catalog import load_catalog
from copilot.knowledge.loaders import faq_csv_chunks, load_file
from copilot.text.chunking import ChunkerConfig

from .conftest import KNOWLEDGE

CFG = ChunkerConfig()


def test_catalog_gives_one_chunk_per_product_and_per_faq():
    chunks = load_file(KNOWLEDGE / "store" / "catalog.yaml", "store/catalog.yaml", CFG)
    catalog = load_catalog(KNOWLEDGE / "store" / "catalog.yaml")
    products = [c for c in chunks if c.kind == "product"]
    faqs = [c for c in chunks if c.kind == "faq"]
    assert len(products) == len(catalog.products) >= 10
    assert len(faqs) == sum(len(p.faqs) for p in catalog.products)
    jacket = next(c for c in products if c.sku == "DJ-2301")
    assert "充绒量" in jacket.text and "尺码表" in jacket.text
    assert all(c.sku for c in faqs) and all(c.ref.startswith("faq/") for c in faqs)
    # stock and promotions change hourly and are read from the catalog at draft time, not embedded
    assert "库存" not in jacket.text


def test_catalog_sample_has_the_variety_the_rules_need():
    from datetime import datetime, timedelta

    catalog = load_catalog(KNOWLEDGE / "store" / "catalog.yaml")
    now = datetime.fromisoformat("2026-11-23T12:00:00+08:00")
    low = [p for p in catalog.products if 0 < p.stock <= catalog.shop.low_stock_threshold]
    promos = [pr for p in catalog.products for pr in p.promotions]
    assert len({p.category for p in catalog.products}) >= 4
    assert low and any(p.stock > 100 for p in catalog.products)
    assert any(pr.ends_within(now, timedelta(days=1)) for pr in promos)
    assert any(pr.is_active(now) and pr.ends_at - now > timedelta(days=3) for pr in promos)
    assert any(pr.ends_at < now for pr in promos) and any(pr.starts_at > now for pr in promos)


def test_policies_are_one_chunk_per_section():
    chunks = load_file(KNOWLEDGE / "store" / "policies.md", "store/policies.md", CFG)
    refs = {c.ref for c in chunks}
    assert all(c.kind == "policy" for c in chunks)
    for name in ("七天无理由退换货", "运费险", "发货时效", "正品保障", "价格保护（价保）", "隐私与账户安全"):
        assert f"policy/{name}" in refs


def test_faq_csv_accepts_common_headers_and_gbk_exports(tmp_path):
    path = tmp_path / "quick.csv"
    path.write_bytes("问题,答案,分组\n包邮吗,全国包邮（新疆西藏除外）,物流\n".encode("gb18030"))
    chunks = load_file(path, "store/quick.csv", CFG)
    assert chunks[0].text == "问：包邮吗\n答：全国包邮（新疆西藏除外）"
    assert chunks[0].kind == "faq" and chunks[0].section == "物流"


def test_csv_with_missing_columns_is_rejected_with_its_path():
    with pytest.raises(KnowledgeFileError) as err:
        faq_csv_chunks("标题,内容\n包邮吗,包邮\n", "store/bad.csv")
    assert err.value.path == "store/bad.csv"
    assert "问题" in err.value.reason and "回答" in err.value.reason


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("store/broken.yaml", b"products:\n  - sku: [unclosed\n", "YAML"),
        ("store/wrong.yaml", b"shop: {}\nproducts:\n  - sku: A1\n    name: x\n", "category"),
        ("docs/image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "二进制"),
        ("docs/empty.md", b"   \n", "为空"),
        ("docs/slides.pdf", b"%PDF-1.4", "不支持"),
    ],
)
def test_bad_files_raise_knowledge_file_errors(tmp_path, name, content, reason):
    path = tmp_path / name.split("/")[-1]
    path.write_bytes(content)
    with pytest.raises(KnowledgeFileError) as err:
        load_file(path, name, CFG)
    assert reason in err.value.reason
    assert name in err.value.message
