"""Nothing in the package or its shipped prompts knows one shop: every store fact comes from ``knowledge/``.

The words are read from the sample stores themselves (their names, product names, 简称 and SKUs, and the
durations their policies state), so a new sample store extends the check without editing it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "copilot"
STORES = [ROOT / "knowledge", *sorted(p / "knowledge" for p in (ROOT / "stores").glob("*") if (p / "knowledge").is_dir())]
DURATION = re.compile(r"(?<![\d.])\d+(?:\s?[-~～至]\s?\d+)?\s?(?:个)?(?:天|小时|个?工作日|个月|年)(?!\d)")


def store_words(knowledge: Path) -> set[str]:
    """The shop's name, every product's name, 简称 and SKU, and every duration its policies state."""
    words: set[str] = set()
    for path in sorted((knowledge / "store").glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or "products" not in data:
            continue
        name = (data.get("shop") or {}).get("name")
        if name:  # 「暖山生活旗舰店」 and its brand 「暖山生活」/「暖山」
            words |= {str(name), re.sub(r"(官方)?(旗舰店|专营店|专卖店|食品旗舰店|数码配件专营店)$", "", str(name))}
            words.add(str(name)[:2])
        for p in data.get("products") or []:
            words |= {str(p["sku"]), str(p["name"]), *(str(a) for a in p.get("aliases") or [])}
    for path in sorted((knowledge / "store").glob("*.md")):
        words |= {m.group(0).replace(" ", "") for m in DURATION.finditer(path.read_text(encoding="utf-8"))}
    return {w for w in words if len(w) >= 2}


def shipped_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if p.suffix in {".py", ".yaml", ".yml", ".md", ".txt", ".json"})


def test_the_sample_stores_are_found():
    assert len(STORES) >= 1 and all((s / "store").is_dir() for s in STORES)
    words = store_words(STORES[0])
    assert len(words) > 20, words


@pytest.mark.parametrize("knowledge", STORES, ids=lambda p: p.parent.name if p.parent != ROOT else "sample")
def test_no_store_fact_in_the_package(knowledge: Path):
    words = store_words(knowledge)
    found = []
    for path in shipped_files():
        text = path.read_text(encoding="utf-8")
        for w in words:
            pattern = re.escape(w)
            if DURATION.fullmatch(w):  # a duration only as itself: 「7天」 not in 「17天」 or 「7天前」 of a date sum
                pattern = rf"(?<![\d.]){pattern}(?!\d)"
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {w}")
    assert not found, "package or prompts name a store fact:\n" + "\n".join(found[:60]) + f"\n({len(found)} in all)"
