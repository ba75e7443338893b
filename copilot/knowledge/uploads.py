"""Uploads into the knowledge folder: validated by the real loaders before anything is written.

The file is written to a temporary name beside its target, loaded exactly as
ingestion would load it, and only then moved into place (the file it
replaces is kept in ``<data_dir>/backups/``). A bad file never touches
``knowledge/``; the upload takes effect at the next reindex.

An upload never replaces an existing file (the catalog, a policy file, a FAQ
export, an article) unless the caller says ``replace=True``; without it the
answer is 409 with a preview of what would change (products added, removed
and changed; policy sections added, removed and changed; chunks before and
after), so the shop sees the change before making it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from ..errors import (
    CopilotError,
    InputError,
    KnowledgeFileError,
    PayloadTooLargeError,
    ReadOnlyError,
    TooMuchKnowledgeError,
)
from ..schema import Chunk
from ..settings import Settings
from ..text.chunking import ChunkerConfig
from .catalog_io import load_store_catalog, merge_catalog_files, store_files
from .ingest import too_many_chunks
from .layout import SUFFIXES, KnowledgeLayout, is_store_catalog, kind_of
from .loaders import decode, faq_csv_warnings, file_warnings, load_file


class ReplaceRequiredError(CopilotError):
    code = "replace_required"
    status = 409


_SAFE_NAME = re.compile(r"^\w[\w.\-]{0,100}$")  # \w covers Chinese; no leading dot


def preview(old: list[Chunk], new: list[Chunk]) -> dict:
    """What replacing a file whose chunks are ``old`` with one whose chunks are ``new`` changes, by reference."""
    before = {c.ref: c.text for c in old}
    after = {c.ref: c.text for c in new}

    def names(refs) -> list[str]:
        return sorted(r.split("/", 1)[-1] for r in refs)

    products_old = {c.sku: c.text for c in old if c.kind == "product"}
    products_new = {c.sku: c.text for c in new if c.kind == "product"}
    out = {"chunks_before": len(old), "chunks_after": len(new),
           "added": names(after.keys() - before.keys()), "removed": names(before.keys() - after.keys()),
           "changed": names(r for r in after.keys() & before.keys() if after[r] != before[r])}
    if products_old or products_new:
        out["products"] = {
            "added": sorted(products_new.keys() - products_old.keys()),
            "removed": sorted(products_old.keys() - products_new.keys()),
            "changed": sorted(k for k in products_new.keys() & products_old.keys() if products_new[k] != products_old[k]),
        }
    return out


def _summary(p: dict) -> str:
    if "products" in p:
        pr = p["products"]
        return f"商品新增 {len(pr['added'])}、删除 {len(pr['removed'])}、修改 {len(pr['changed'])}（共 {p['chunks_before']} → {p['chunks_after']} 个知识块）"
    return f"小节新增 {len(p['added'])}、删除 {len(p['removed'])}、修改 {len(p['changed'])}（共 {p['chunks_before']} → {p['chunks_after']} 个知识块）"


def save_upload(settings: Settings, filename: str, data: bytes, *, policy: bool = False, replace: bool = False) -> dict:
    """Validate and store a knowledge file (document, FAQ CSV, or the catalog). Nothing is written if it is bad."""
    name = Path(filename or "").name.strip()
    if not name or not _SAFE_NAME.match(name):
        raise InputError(f"文件名不合法：{filename!r}", message_en="invalid file name",
                         hint="只用中文、字母、数字、点、横线和下划线")
    suffix = Path(name).suffix.lower()
    rel = KnowledgeLayout(settings.knowledge_dir).upload_target(name, policy=policy)
    if rel is None and suffix not in SUFFIXES:
        raise InputError(f"不支持的文件类型 {suffix or '（无扩展名）'}，支持：{'、'.join(sorted(SUFFIXES))}",
                         message_en="unsupported file type")
    if rel is None:
        raise InputError("YAML 只接受商品目录 catalog.yaml（替换整个商品目录）或店铺词表 lexicon.yaml",
                         message_en="only catalog.yaml or lexicon.yaml",
                         hint="要替换商品目录，请把文件命名为 catalog.yaml 并确认替换（replace=true）")
    limit = settings.max_upload_mb * 1024 * 1024
    if len(data) > limit:
        raise PayloadTooLargeError(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限 {settings.max_upload_mb} MB",
                                   message_en="file too large")
    target = settings.knowledge_dir / rel
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=suffix)
    except OSError as exc:
        raise ReadOnlyError(
            f"知识目录不可写：{target.parent}（{exc.strerror or exc}），文件未保存",
            message_en=f"knowledge dir {target.parent} is not writable: {exc}",
            hint="检查知识目录的权限与挂载方式；已有知识不受影响",
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        cfg = ChunkerConfig(settings.chunk_size, settings.chunk_overlap)
        try:
            chunks = load_file(Path(tmp), rel, cfg)
        except KnowledgeFileError as exc:
            raise KnowledgeFileError(name, exc.reason, reason_en=exc.message_en) from None
        if len(chunks) > settings.max_file_chunks:
            raise TooMuchKnowledgeError(
                f"{name} {too_many_chunks(len(chunks), settings.max_file_chunks)}，未保存",
                message_en=f"{len(chunks)} chunks exceed max_file_chunks={settings.max_file_chunks}",
                hint="把文件拆成几个小文件分别上传，或调大设置 max_file_chunks（COPILOT_MAX_FILE_CHUNKS）",
            )
        warnings = _warnings(settings, rel, decode(data, name))
        replaced = target.exists()
        change = None  # what replacing the existing file changes
        if replaced:
            try:
                current = load_file(target, rel, cfg)
            except KnowledgeFileError:
                current = []  # the file on disk is broken: everything in the upload is new
            change = preview(current, chunks)
            if not replace:
                raise ReplaceRequiredError(
                    f"{rel} 已存在，上传会替换它：{_summary(change)}。确认无误后请勾选「替换」（replace=true）再上传",
                    message_en=f"{rel} exists; upload again with replace=true to replace it",
                    hint="替换前旧文件会备份到数据目录的 backups/", details={"path": rel, "preview": change},
                )
        try:
            if replaced:
                backups = settings.data_dir / "backups"
                backups.mkdir(parents=True, exist_ok=True)
                shutil.copy2(target, backups / f"{time.strftime('%Y%m%d-%H%M%S')}-{target.name}")
            os.replace(tmp, target)
        except OSError as exc:  # no backup, no replacement: the file on disk stays as it was
            raise ReadOnlyError(
                f"无法保存 {rel}：{exc.strerror or exc}（数据目录或知识目录不可写），文件未替换",
                message_en=f"cannot store {rel}: {exc}", hint="检查数据目录与知识目录的权限和磁盘空间",
            ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    flagged = [f for c in chunks for f in c.flags]
    note = f"；已移除 {len(flagged)} 处疑似给 AI 的指令" if flagged else ""
    if kind_of(rel) == "lexicon":
        what = f"已{'替换' if change else '保存'} {rel}（店铺词表）"
    else:
        what = f"已替换 {rel}（{_summary(change)}）" if change else f"已保存 {rel}（{len(chunks)} 个知识块）"
    tips = ("。提示：" + "；".join(warnings[:3]) + (f"（共 {len(warnings)} 条）" if len(warnings) > 3 else "")) \
        if warnings else ""
    return {"path": rel, "chunks": len(chunks), "replaced": replaced, "flagged": flagged, "preview": change,
            "warnings": warnings, "message": f"{what}{note}，重建索引后生效{tips}"}


def _warnings(settings: Settings, rel: str, text: str) -> list[str]:
    """What the upload deserves a look at: a catalog's warnings merged with the store's other catalog files (a
    SKU another file already has), a FAQ export's unknown columns and SKUs the store's catalog lacks."""
    kdir = settings.knowledge_dir
    if is_store_catalog(rel):
        try:
            others = {r: decode(p.read_bytes(), r) for r, p in store_files(kdir).items() if r != rel}
            return merge_catalog_files({**others, rel: text}).warnings
        except (CopilotError, OSError):
            pass  # another store file is broken: this file's own warnings
    if kind_of(rel) == "faq_csv":
        try:
            skus = {p.sku.lower() for p in load_store_catalog(kdir).products}
        except (CopilotError, OSError):
            skus = None  # the catalog on disk is broken: the SKUs are not checked
        return faq_csv_warnings(text, rel, skus)
    return file_warnings(text, rel)
