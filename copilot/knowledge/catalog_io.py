"""Reading catalogs: one YAML text, every catalog file of a store merged, the files kept with an index generation.

A store's catalog may be split over several files (``store/catalog.yaml``, ``store/catalog_tea.yaml`` … —
every .yaml/.yml under ``store/`` except the store lexicon, see ``layout``). They are merged into one
``Catalog``: products concatenated (catalog.yaml first, then by name), ``shop`` from catalog.yaml (else the
first file that has one), a SKU repeated across or within files kept once (the first) with a warning naming
both files. The store lexicon's ``units`` join ``Catalog.units``.

An index generation keeps the texts of these files with it (``bundle``: a JSON mapping rel → text), so drafts
and checks use the catalog the index was built from; a generation built before holds one plain YAML text,
which ``parse_catalog`` still reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import KnowledgeFileError, explain_error
from .catalog import DEFAULT_TZ, Catalog, Shop
from .catalog_fields import shop_tz
from .layout import CATALOG, KnowledgeLayout, catalog_order, is_store_lexicon

BUNDLE_KEY = "copilot_store_files"


# ---------------------------------------------------------------- bundle ---

def bundle(files: dict[str, str]) -> str:
    """The store's catalog and lexicon texts as one string (kept with an index generation)."""
    return json.dumps({BUNDLE_KEY: 1, "files": dict(sorted(files.items()))}, ensure_ascii=False, sort_keys=True)


def unbundle(text: str) -> dict[str, str] | None:
    """The files of a ``bundle``; None when ``text`` is not one (a plain catalog YAML from an older generation)."""
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or BUNDLE_KEY not in data or not isinstance(data.get("files"), dict):
        return None
    return {str(k): str(v) for k, v in data["files"].items()}


def generation_files(text: str) -> dict[str, str]:
    """The store files a generation holds: its bundle, or {catalog.yaml: text} for an older one."""
    files = unbundle(text)
    if files is not None:
        return files
    return {CATALOG: text} if text else {}


# --------------------------------------------------------------- lexicon ---

@dataclass
class StoreLexicon:
    """The store's own buyer vocabulary (``store/lexicon.yaml``): regex → standard terms, and units."""

    expansions: dict[str, list[str]] = field(default_factory=dict)
    units: list[str] = field(default_factory=list)


def parse_store_lexicon(text: str, path: str = "store/lexicon.yaml") -> StoreLexicon:
    """``expansions: {regex: [terms]}`` and ``units: [罐, 袋]``; every problem is a ``KnowledgeFileError``."""
    data = _yaml(text, path)
    if data is None:
        return StoreLexicon()
    if not isinstance(data, dict):
        raise KnowledgeFileError(path, "顶层必须是映射（expansions: … 和 units: …）", reason_en="lexicon must be a mapping")
    unknown = [str(k) for k in data if k not in ("expansions", "units")]
    if unknown:
        raise KnowledgeFileError(path, f"不认识的字段「{'、'.join(unknown)}」（只认 expansions 和 units）",
                                 reason_en=f"unknown lexicon keys {unknown}")
    raw = data.get("expansions") or {}
    if not isinstance(raw, dict):
        raise KnowledgeFileError(path, "expansions 应为「正则: [词, …]」的映射", reason_en="expansions must be a mapping")
    expansions: dict[str, list[str]] = {}
    for pattern, terms in raw.items():
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise KnowledgeFileError(path, f"expansions 里的正则「{pattern}」有误：{exc}", reason_en=str(exc)) from None
        terms = [terms] if isinstance(terms, (str, int, float)) else terms
        if not isinstance(terms, list) or not all(isinstance(t, (str, int, float)) for t in terms):
            raise KnowledgeFileError(path, f"expansions 里「{pattern}」的值应为词的列表，例如 [保质期, 生产日期]",
                                     reason_en="expansion terms must be a list of words")
        expansions[str(pattern)] = [str(t) for t in terms if str(t).strip()]
    units = data.get("units") or []
    units = [units] if isinstance(units, str) else units
    if not isinstance(units, list) or not all(isinstance(u, str) and 0 < len(u.strip()) <= 4 for u in units):
        raise KnowledgeFileError(path, "units 应为计量单位的列表（每个 1–4 个字），例如 [罐, 袋, 盒]",
                                 reason_en="units must be a list of short words")
    return StoreLexicon(expansions, [u.strip() for u in units])


# --------------------------------------------------------------- parsing ---

def _yaml(text: str, path: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列附近）" if mark else ""
        raise KnowledgeFileError(path, f"YAML 格式错误{where}：请检查缩进、冒号后的空格，以及引号和括号是否成对",
                                 reason_en=str(exc)) from None


def _validate(data: Any, path: str, tz=None) -> Catalog:
    try:
        return Catalog.model_validate(data, context={"path": path, "tz": tz})
    except ValidationError as exc:
        errors = exc.errors()
        reason = explain_error(errors[0]) if errors else "取值不合法"
        raise KnowledgeFileError(path, reason, reason_en=str(exc)) from None


def parse_catalog(text: str, path: str = "catalog.yaml") -> Catalog:
    """Parse one catalog YAML text (or a generation's bundle of store files), turning every problem into a
    ``KnowledgeFileError`` whose reason names the product and the field in Chinese."""
    files = unbundle(text)
    if files is not None:
        return merge_catalog_files(files)
    return _validate(_yaml(text, path), path)


def merge_catalog_files(files: dict[str, str]) -> Catalog:
    """One catalog from a store's files (rel path → text): catalog files merged, the lexicon's units added.

    A broken catalog file raises ``KnowledgeFileError`` naming it; a broken lexicon only adds a warning (its
    problem is reported where the lexicon itself is loaded)."""
    lexicons = {rel: t for rel, t in files.items() if is_store_lexicon(rel)}
    order = catalog_order([rel for rel in files if rel not in lexicons])
    loaded = {rel: _yaml(files[rel], rel) for rel in order}
    for rel, data in loaded.items():
        if not isinstance(data, dict):
            raise KnowledgeFileError(rel, "catalog 顶层必须是包含 shop 与 products 的映射", reason_en="not a mapping")
    shop_rel = next((rel for rel in order if loaded[rel].get("shop") is not None), None)
    tz = shop_tz(loaded[shop_rel]["shop"], DEFAULT_TZ) if shop_rel else None
    parsed = {rel: _validate(loaded[rel], rel, tz) for rel in order}
    warnings: list[str] = []
    products, owner = [], {}
    for rel in order:
        catalog = parsed[rel]
        warnings += catalog.warnings
        if rel != shop_rel and loaded[rel].get("shop") is not None:
            warnings.append(f"{rel}：店铺信息（shop）以 {shop_rel} 为准，本文件的 shop 未使用")
        for p in catalog.products:  # a file repeats no SKU of its own (``Catalog`` keeps the first)
            first = owner.setdefault(p.sku.lower(), rel)
            if first != rel:
                warnings.append(f"{rel}：商品 {p.sku} 与 {first} 中的货号重复，已保留 {first} 中的商品")
                continue
            products.append(p)
    units: list[str] = []
    for rel, text in sorted(lexicons.items()):
        try:
            units += parse_store_lexicon(text, rel).units
        except KnowledgeFileError as exc:
            warnings.append(f"{rel}：{exc.reason}，店铺词表未使用")
    if len(order) == 1 and not lexicons:
        return parsed[order[0]]
    merged = Catalog.model_construct(shop=parsed[shop_rel].shop if shop_rel else Shop(), products=products)
    merged._warnings = warnings
    merged._lexicon_units = list(dict.fromkeys(units))
    return merged


# ------------------------------------------------------------------ disk ---

def _read(path: Path, rel: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KnowledgeFileError(rel, f"无法读取：{exc.strerror or exc}", reason_en=str(exc)) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise KnowledgeFileError(rel, "无法识别的文本编码（请保存为 UTF-8）", reason_en="undecodable text")


def load_catalog(path: Path) -> Catalog:
    """One catalog file on its own."""
    return parse_catalog(_read(Path(path), str(path)), str(path))


def store_files(knowledge_dir: Path) -> dict[str, Path]:
    """The store's catalog files and lexicon on disk, by path relative to the knowledge folder."""
    layout = KnowledgeLayout(knowledge_dir)
    paths = [*layout.catalog_files(), *([layout.lexicon] if layout.lexicon.is_file() else [])]
    return {p.relative_to(layout.root).as_posix(): p for p in paths}


def load_store_catalog(knowledge_dir: Path) -> Catalog:
    """Every catalog file of the store in ``knowledge_dir`` merged into one catalog, with its warnings (an
    empty catalog when there is none). A broken file raises ``KnowledgeFileError`` naming it."""
    files = {rel: _read(path, rel) for rel, path in store_files(Path(knowledge_dir)).items()}
    return merge_catalog_files(files) if files else Catalog()


class CatalogFile:
    """The catalog on disk, re-read when a file changes. Drafting and checking use the catalog kept with the
    served index (it takes effect at the reindex); the files are read only where there is no such index.

    Given the store's ``catalog.yaml`` (``KnowledgeLayout.catalog``), it reads the store's merged catalog
    (every catalog file of ``store/`` and the lexicon's units), so a second file's products are not missed;
    given any other path, that file alone."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        layout = KnowledgeLayout(self.path.parent.parent)
        self._store = self.path == layout.catalog or self.path == layout.root / "store" / "catalog.yml"
        self._cached: tuple[tuple, Catalog] | None = None

    def _stamp(self) -> tuple | None:
        """What the catalog is read from, with sizes and times (None when there is no catalog file)."""
        if self._store:
            files = store_files(self.path.parent.parent)
            if not any(not is_store_lexicon(rel) for rel in files):
                return None
            paths = list(files.values())
        elif self.path.exists():
            paths = [self.path]
        else:
            return None
        try:
            return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
        except OSError:  # removed meanwhile: read again next time
            return None

    def get(self) -> Catalog | None:
        stamp = self._stamp()
        if stamp is None:
            return None
        if self._cached is None or self._cached[0] != stamp:
            catalog = load_store_catalog(self.path.parent.parent) if self._store else load_catalog(self.path)
            self._cached = (stamp, catalog)
        return self._cached[1]
