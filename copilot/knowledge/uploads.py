"""Uploads into the knowledge folder: validated by the real loaders before anything is written.

The file is written to a temporary name beside its target, loaded exactly as
ingestion would load it, and only then moved into place (the file it
replaces is kept in ``<data_dir>/backups/``). A bad file never touches
``knowledge/``; the upload takes effect at the next reindex.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from ..errors import InputError, KnowledgeFileError, PayloadTooLargeError
from ..settings import Settings
from ..text.chunking import ChunkerConfig
from .layout import SUFFIXES, KnowledgeLayout
from .loaders import load_file

_SAFE_NAME = re.compile(r"^\w[\w.\-]{0,100}$")  # \w covers Chinese; no leading dot


def save_upload(settings: Settings, filename: str, data: bytes, *, policy: bool = False) -> dict:
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
        raise InputError("YAML 只接受商品目录（文件名以 catalog 开头）", message_en="only catalog*.yaml")
    limit = settings.max_upload_mb * 1024 * 1024
    if len(data) > limit:
        raise PayloadTooLargeError(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限 {settings.max_upload_mb} MB",
                                   message_en="file too large")
    target = settings.knowledge_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            chunks = load_file(Path(tmp), rel, ChunkerConfig(settings.chunk_size, settings.chunk_overlap))
        except KnowledgeFileError as exc:
            raise KnowledgeFileError(name, exc.reason, reason_en=exc.message_en) from None
        replaced = target.exists()
        if replaced:
            backups = settings.data_dir / "backups"
            backups.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, backups / f"{time.strftime('%Y%m%d-%H%M%S')}-{target.name}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    flagged = [f for c in chunks for f in c.flags]
    note = f"；已移除 {len(flagged)} 处疑似给 AI 的指令" if flagged else ""
    return {"path": rel, "chunks": len(chunks), "replaced": replaced, "flagged": flagged,
            "message": f"已保存 {rel}（{len(chunks)} 个知识块）{note}，重建索引后生效"}
