"""Uploads never silently replace the store's authoritative files (security review, finding 3)."""

import pytest

from copilot.errors import CopilotError, InputError
from copilot.knowledge.layout import CATALOG
from copilot.knowledge.uploads import save_upload

from .conftest import copy_knowledge

ONE_PRODUCT = """shop: {name: 测试店}
products:
  - {sku: PX-1, name: 毒商品, category: 家居, price: 9.9, stock: 5}
"""


@pytest.fixture
def settings(tmp_path):
    return copy_knowledge(tmp_path, embedder="hash:64")


def test_a_new_catalog_name_never_maps_onto_the_catalog(settings):
    before = (settings.knowledge_dir / CATALOG).read_bytes()
    with pytest.raises(InputError) as info:
        save_upload(settings, "catalog_poison.yaml", ONE_PRODUCT.encode())
    assert info.value.status == 422 and "catalog.yaml" in info.value.message
    assert (settings.knowledge_dir / CATALOG).read_bytes() == before


def test_replacing_the_catalog_needs_replace_and_shows_what_changes(settings):
    path = settings.knowledge_dir / CATALOG
    before = path.read_bytes()
    with pytest.raises(CopilotError) as info:
        save_upload(settings, "catalog.yaml", ONE_PRODUCT.encode())
    err = info.value
    assert err.status == 409 and err.code == "replace_required" and "replace=true" in err.message
    products = err.details["preview"]["products"]
    assert products["added"] == ["PX-1"] and "DJ-2301" in products["removed"] and len(products["removed"]) == 13
    assert "删除 13" in err.message
    assert path.read_bytes() == before, "nothing is written without replace=true"

    done = save_upload(settings, "catalog.yaml", ONE_PRODUCT.encode(), replace=True)
    assert done["replaced"] and done["preview"]["products"]["removed"] and "已替换" in done["message"]
    assert path.read_text(encoding="utf-8") == ONE_PRODUCT
    assert any(p.name.endswith("-catalog.yaml") for p in (settings.data_dir / "backups").iterdir())


def test_a_policy_file_of_the_same_name_needs_replace(settings):
    path = settings.knowledge_dir / "store" / "policies.md"
    before = path.read_bytes()
    new = "## 七天无理由退换货\n签收后7天内可退。\n".encode()
    with pytest.raises(CopilotError) as info:
        save_upload(settings, "policies.md", new, policy=True)
    preview = info.value.details["preview"]
    assert info.value.status == 409 and preview["chunks_after"] == 1 and preview["removed"]
    assert path.read_bytes() == before
    assert save_upload(settings, "policies.md", new, policy=True, replace=True)["replaced"]


def test_a_new_file_is_saved_without_asking(settings):
    r = save_upload(settings, "以旧换新.md", "## 以旧换新\n旧衣寄回抵扣30元。\n".encode(), policy=True)
    assert r["path"] == "store/以旧换新.md" and not r["replaced"] and r["preview"] is None


def _faq_rows(n: int) -> bytes:
    return ("问题,回答\n" + "".join(f"问题{i}怎么办,回答{i}。\n" for i in range(n))).encode()


def test_an_upload_with_too_many_rows_is_refused_before_anything_is_written(tmp_path):
    settings = copy_knowledge(tmp_path, embedder="hash:64", max_file_chunks=100)
    with pytest.raises(CopilotError) as info:
        save_upload(settings, "big.csv", _faq_rows(150))
    assert info.value.status == 413 and "150" in info.value.message and "100" in info.value.message
    assert not (settings.knowledge_dir / "store" / "big.csv").exists()


def test_a_reindex_over_the_caps_keeps_the_active_index(tmp_path):
    from copilot.knowledge.ingest import ingest
    from copilot.retrieval.retriever import Retriever

    settings = copy_knowledge(tmp_path, embedder="hash:64", max_file_chunks=100, max_index_chunks=400)
    first = ingest(settings)
    # a file over the per-file cap is reported and skipped; the rest is indexed
    (settings.knowledge_dir / "store" / "big.csv").write_bytes(_faq_rows(150))
    report = ingest(settings)
    assert [p.path for p in report.problems] == ["store/big.csv"] and "100" in report.problems[0].reason
    assert report.chunks == first.chunks
    # files that each fit but together exceed the per-reindex cap: 413, nothing embedded, the old index serves
    for i in range(3):
        (settings.knowledge_dir / "store" / f"part{i}.csv").write_bytes(_faq_rows(90))
    with pytest.raises(CopilotError) as info:
        ingest(settings)
    assert info.value.status == 413 and "400" in info.value.message
    assert Retriever(settings).index().generation.count == first.chunks


def test_an_uploaded_catalog_takes_effect_at_the_reindex_and_mentions_follow_it(tmp_path):
    from copilot.app.service import Workspace
    from copilot.drafting.io import DraftRequest
    from copilot.knowledge.ingest import ingest

    settings = copy_knowledge(tmp_path, embedder="hash:64")
    ingest(settings)
    ws = Workspace(settings)
    ask = DraftRequest(message="羽绒服能机洗吗", n=1)
    assert ws.draft(ask).product == "DJ-2301"
    catalog = ONE_PRODUCT.replace("毒商品", "竹编收纳篮")
    save_upload(settings, "catalog.yaml", catalog.encode(), replace=True)
    # saved, not yet in effect: drafts and checks still see the catalog the index was built from
    assert ws.draft(ask).product == "DJ-2301" and ws.catalog.get("DJ-2301")
    assert ws.check("亲，只剩最后3件了", sku="DJ-2301").passed is False
    ws.reindex()
    after = ws.draft(ask)  # the buyer still says 羽绒服: no stale mention, no 404 for a product that is gone
    assert after.product is None and after.drafts
    assert ws.draft(DraftRequest(message="竹编收纳篮还有货吗", n=1)).product == "PX-1"
    assert [p.sku for p in ws.catalog.products] == ["PX-1"]
