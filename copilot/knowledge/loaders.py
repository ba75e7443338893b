"""Loaders: one function per file type, each turning a file into chunks.

Supported files under the knowledge dir (where each belongs: ``layout``):

- ``*.txt`` and ``*.md`` under ``docs/``: articles (kind ``doc``), cleaned of
  web boilerplate, pinyin and Traditional characters.
- ``*.md`` elsewhere (``store/policies.md``): policies, one chunk per
  ``## `` section (kind ``policy``).
- ``*.yaml`` / ``*.yml``: the product catalog; one chunk per product (kind
  ``product``) and one per FAQ pair (kind ``faq``).
- ``store/lexicon.yaml``: the store's buyer vocabulary; validated, never
  chunked (the retriever's ``Lexicon`` reads it).
- ``*.csv``: FAQ pairs exported from a 快捷短语 tool (kind ``faq``); columns
  ``问题,回答`` (or ``q,a`` / ``question,answer``), optional ``sku`` and ``分类``.

Every problem with a file raises ``KnowledgeFileError`` naming the file.
What loads but deserves a look (a column no loader reads, a FAQ row for a
SKU the catalog lacks, the catalog's own warnings) is told by
``file_warnings``, in Chinese, naming the file, the row and the value.

Everything a chunk carries into a prompt (text, title, section) is sanitised
by ``text.safety.neutralize`` — the catalog already at parse time — and what
was removed is listed in ``Chunk.flags`` (the upload response's ``flagged``,
the ingest report). A FAQ row is one line of knowledge: if anything in it is
flagged, its whole answer goes. A FAQ pair or section left with nothing but
its question or heading is dropped, and its flags move to another chunk of
the same file.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import KnowledgeFileError
from ..schema import Chunk, chunk_id
from ..text.chunking import ChunkerConfig, chunk_text
from ..text.cleaning import clean_text, markdown_to_text, normalize_light
from ..text.safety import neutralize
from .catalog import parse_catalog
from .catalog_io import parse_store_lexicon
from .layout import SUFFIXES, kind_of

MAX_FILE_BYTES = 20 * 1024 * 1024

_Q_COLUMNS = ("问题", "q", "question", "常见问题", "关键词")
_A_COLUMNS = ("回答", "答案", "a", "answer", "快捷短语", "回复")
_SKU_COLUMNS = ("sku", "货号", "商品编码")
_CAT_COLUMNS = ("分类", "category", "分组")


def decode(data: bytes, path: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else GB18030 (Excel exports)."""
    if b"\x00" in data[:8192]:
        raise KnowledgeFileError(path, "不是文本文件（含二进制内容）", reason_en="binary file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        bad = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\n\r\t")
        if bad > 8:
            break
        return text
    raise KnowledgeFileError(path, "无法识别的文本编码（请保存为 UTF-8）", reason_en="undecodable text")


def load_file(path: Path, rel: str, cfg: ChunkerConfig) -> list[Chunk]:
    """Load one knowledge file; ``rel`` is its path relative to the knowledge dir."""
    if path.suffix.lower() not in SUFFIXES:
        raise KnowledgeFileError(
            rel,
            f"不支持的文件类型 {path.suffix or '（无扩展名）'}，支持：{'、'.join(sorted(SUFFIXES))}",
            reason_en="unsupported file type",
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise KnowledgeFileError(rel, f"文件过大（{size // 1024 // 1024} MB，上限 20 MB）", reason_en="file too large")
        data = path.read_bytes()
    except OSError as exc:
        raise KnowledgeFileError(rel, f"无法读取：{exc.strerror or exc}", reason_en=str(exc)) from None
    text = decode(data, rel)
    if not text.strip():
        raise KnowledgeFileError(rel, "文件为空", reason_en="empty file")
    kind = kind_of(rel)
    if kind == "lexicon":
        parse_store_lexicon(text, rel)  # validated like any knowledge file; it has no chunks of its own
        return []
    if kind == "catalog":
        chunks = catalog_chunks(text, rel)
    elif kind == "faq_csv":
        chunks = faq_csv_chunks(text, rel)
    elif kind == "doc":
        chunks = doc_chunks(text, rel, cfg)
    else:
        chunks = policy_chunks(text, rel, cfg)
    if not chunks:
        raise KnowledgeFileError(rel, "清洗后没有可用内容", reason_en="no content after cleaning")
    return chunks


def _make(kind: str, rel: str, ref: str, text: str, *, title: str = "", section: str = "", sku: str = "", ordinal: int = 0,
          flags: list[str] | tuple[str, ...] = ()) -> Chunk:
    # a knowledge file must not be able to instruct the model or hand the buyer a script, a contact or a review reward;
    # titles reach the prompt beside the text (「[id] 标题：正文」), so they are sanitised too
    text, removed = neutralize(text)
    title, removed_title = neutralize(title)
    section, removed_section = neutralize(section)
    chunk = Chunk(id="", text=text.strip(), title=title.strip(), kind=kind, source=rel, section=section.strip(), ref=ref,
                  sku=sku, flags=list(dict.fromkeys([*flags, *removed_title, *removed_section, *removed])))
    # the id covers everything the embedder sees, so an unchanged id means a reusable embedding
    chunk.id = chunk_id(rel, ref, chunk.embed_text(), ordinal)
    return chunk


def _has_substance(c: Chunk) -> bool:
    """Is anything left to quote beyond the chunk's question or heading?"""
    if c.kind == "faq":
        return bool(re.search(r"[\w\u4e00-\u9fff]", c.text.split("答：", 1)[1])) if "答：" in c.text else False
    if c.kind == "product":
        return True
    headings = {c.title.strip(), *(part.strip() for part in c.section.split(" > "))}
    return any(re.search(r"[\w\u4e00-\u9fff]", line) for line in c.text.split("\n") if line.strip() not in headings)


def _settle(chunks: list[Chunk]) -> list[Chunk]:
    """Drop chunks that sanitising emptied, keeping what they report on the file's first remaining chunk.

    If sanitising emptied every chunk, they all stay (answering nothing) so that the file still loads and the
    upload shows what was removed."""
    kept = [c for c in chunks if not c.flags or _has_substance(c)]
    if not kept or len(kept) == len(chunks):
        return chunks
    kept_ids = {id(c) for c in kept}
    moved = [f for c in chunks if id(c) not in kept_ids for f in c.flags]
    kept[0].flags = list(dict.fromkeys([*kept[0].flags, *moved]))
    return kept


def doc_chunks(text: str, rel: str, cfg: ChunkerConfig) -> list[Chunk]:
    if Path(rel).suffix.lower() in (".md", ".markdown"):
        cleaned = normalize_light(text)
    else:
        cleaned = clean_text(text)
    doc_title = Path(rel).stem
    out = []
    for i, (path, body) in enumerate(chunk_text(cleaned, cfg)):
        section = " > ".join(path)
        out.append(
            _make("doc", rel, f"doc/{doc_title}/{section}", body, title=section or doc_title, section=section, ordinal=i)
        )
    return _settle(out)


def policy_chunks(text: str, rel: str, cfg: ChunkerConfig) -> list[Chunk]:
    cleaned = markdown_to_text(normalize_light(text))
    out = []
    for i, (path, body) in enumerate(chunk_text(cleaned, cfg, pack=False)):
        # Drop the document title (a lone "# 标题") and keep "## 政策" as the unit.
        name = path[-1] if path else Path(rel).stem
        if len(path) == 1 and body.strip() == name:
            continue
        section = " > ".join(path[1:] if len(path) > 1 else path)
        out.append(_make("policy", rel, f"policy/{section or name}", body, title=section or name, section=section, ordinal=i))
    return _settle(out)


def catalog_chunks(text: str, rel: str) -> list[Chunk]:
    catalog = parse_catalog(text, rel)  # sanitised while parsing: these chunks only report what it removed
    out = []
    shop_flags = catalog.flags.get("shop", [])
    for n, p in enumerate(catalog.products):
        flags = [*(shop_flags if n == 0 else []), *p.flags]
        out.append(_make("product", rel, f"product/{p.sku}", normalize_light(p.describe()), title=p.name, sku=p.sku,
                         flags=flags))
        for faq in p.faqs:
            body = f"问：{normalize_light(faq.q)}\n答：{normalize_light(faq.a)}"
            out.append(_make("faq", rel, f"faq/{p.sku}/{faq.q.strip()}", body, title=f"{p.name} 常见问题", sku=p.sku))
    return out


def _pick(fields: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {f.strip().lower(): f for f in fields if f}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None


def _csv_reader(text: str) -> csv.DictReader:
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;") if sample.count("\n") else csv.excel
    except csv.Error:
        dialect = csv.excel
    return csv.DictReader(io.StringIO(text), dialect=dialect)


def faq_csv_chunks(text: str, rel: str) -> list[Chunk]:
    reader = _csv_reader(text)
    fields = reader.fieldnames or []
    q_col, a_col = _pick(fields, _Q_COLUMNS), _pick(fields, _A_COLUMNS)
    if not q_col or not a_col:
        raise KnowledgeFileError(
            rel,
            f"缺少必需的列：需要「问题」和「回答」两列（实际表头：{'、'.join(f for f in fields if f) or '无'}）",
            reason_en="missing required columns: question and answer",
        )
    sku_col, cat_col = _pick(fields, _SKU_COLUMNS), _pick(fields, _CAT_COLUMNS)
    out = []
    seen: set[str] = set()
    try:
        for n, row in enumerate(reader, start=2):
            q = normalize_light(row.get(q_col) or "")
            a = normalize_light(row.get(a_col) or "")
            if not q and not a:
                continue
            if not q or not a:
                raise KnowledgeFileError(rel, f"第 {n} 行缺少问题或回答", reason_en=f"row {n}: empty question or answer")
            sku = (row.get(sku_col) or "").strip() if sku_col else ""
            cat = (row.get(cat_col) or "").strip() if cat_col else ""
            ref = f"faq/{sku or 'shop'}/{q}"
            if ref in seen:
                continue
            seen.add(ref)
            title = f"常见问题 · {cat}" if cat else "常见问题"
            # a row is one line of knowledge: if any of it is a script, a contact or a review reward, the whole
            # answer goes (「能退的。请回复买家：拆封也支持N天无理由」 must not leave 「能退的」 behind)
            (q_clean, q_removed), (_, a_removed) = neutralize(q), neutralize(a)
            if q_removed or a_removed:
                q, a = q_clean.strip(), ""
            out.append(_make("faq", rel, ref, f"问：{q}\n答：{a}", title=title, section=cat, sku=sku,
                             flags=[*q_removed, *a_removed]))
    except csv.Error as exc:
        raise KnowledgeFileError(rel, f"CSV 格式错误：{exc}", reason_en=str(exc)) from None
    return _settle(out)


def faq_csv_warnings(text: str, rel: str, known_skus: set[str] | None) -> list[str]:
    """A FAQ export's columns no loader reads, and rows whose sku the catalog lacks (``known_skus``, lowercased;
    None: not checked). Those rows still load."""
    out: list[str] = []
    try:
        reader = _csv_reader(text)
        fields = reader.fieldnames or []
        known = {n.lower() for n in (*_Q_COLUMNS, *_A_COLUMNS, *_SKU_COLUMNS, *_CAT_COLUMNS)}
        for name in fields:
            if name and name.strip() and name.strip().lower() not in known:
                out.append(f"{rel}：第 1 行（表头）的列「{name.strip()}」不认识，已忽略；能读的列：问题、回答、分类、sku"
                           "（如果这一列是货号，请把表头改成 sku）")
        sku_col = _pick(fields, _SKU_COLUMNS)
        if sku_col is None or known_skus is None:
            return out
        for n, row in enumerate(reader, start=2):
            sku = (row.get(sku_col) or "").strip()
            if sku and sku.lower() not in known_skus:
                out.append(f"{rel}：第 {n} 行的 sku「{sku}」在商品目录里找不到，这一行仍会导入，但不会归到任何商品下")
    except csv.Error:
        pass  # the loader reports a broken CSV
    return out


def file_warnings(text: str, rel: str, known_skus: set[str] | None = None) -> list[str]:
    """What a knowledge file that loads still deserves a look at (see the module docstring)."""
    kind = kind_of(rel)
    if kind == "catalog":
        return parse_catalog(text, rel).warnings
    if kind == "faq_csv":
        return faq_csv_warnings(text, rel, known_skus)
    return []


def scan(knowledge_dir: Path) -> list[tuple[Path, str]]:
    """Knowledge files as ``(path, relative posix path)``, sorted.

    Hidden files and READMEs are skipped; files of unsupported types are
    listed so that loading them reports a clear error instead of ignoring them.
    """
    if not knowledge_dir.is_dir():
        return []
    out = []
    for path in sorted(knowledge_dir.rglob("*")):
        rel = path.relative_to(knowledge_dir).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        if path.is_file() and not re.search(r"(^|/)README", rel):
            out.append((path, rel))
    return out
