"""Agents' edits as proposed knowledge: a fact agents keep adding to drafts becomes a proposed FAQ row.

From the edited drafts in the feedback store, the sentences the agent added (not in the draft, not already in the
store's knowledge) are grouped when they say the same thing; a group added ``min_count`` times or more is proposed
as a FAQ row — the buyers' question, the added answer, and the evidence (each edit). Proposals go to a review file
(``<data_dir>/proposals.yaml``); ``accept`` adds exactly that row to the store's ``faqs.csv``, and nothing is added
without it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from ..drafting.answers import bigrams
from ..errors import InputError, NotFoundError
from ..text.chunking import split_sentences

SIMILAR = 0.6  # bigram overlap (Jaccard) at which two added sentences say the same thing
KNOWN = 0.7  # ... at which an added sentence is already in the draft or the knowledge


class Evidence(BaseModel):
    message: str
    draft: str
    final: str


class Proposal(BaseModel):
    id: str
    question: str = Field(description="the buyers' question (the most frequent wording)")
    answer: str = Field(description="what the agents added")
    count: int = Field(description="how many edits added it")
    sku: str = ""
    evidence: list[Evidence]


def _plain(text: str) -> str:
    return re.sub(r"[\s，。！？!?,.～~、：:；;“”\"'（）()]+|^亲", "", text)


def _grams(text: str) -> set[str]:
    return bigrams(_plain(text))


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def added_sentences(draft: str, final: str, knowledge: str = "") -> list[str]:
    """The sentences of ``final`` that say something the draft and the knowledge do not."""
    said = [_grams(s) for s in split_sentences(draft)]
    known = _plain(knowledge)
    out = []
    for s in split_sentences(final):
        s = s.strip()
        g = _grams(s)
        if len(_plain(s)) < 6 or any(_overlap(g, d) >= KNOWN for d in said) or _plain(s) in known:
            continue
        out.append(s)
    return out


def propose(rows: list[dict], knowledge: str = "", min_count: int = 3) -> list[Proposal]:
    """Proposals from the edited rows of the feedback store (``FeedbackStore.rows``), most frequent first."""
    groups: list[dict] = []  # {grams, sentences: Counter, evidence: [...], messages: Counter, skus: Counter}
    for r in rows:
        if r["action"] != "edit" or not r.get("final_text"):
            continue
        for s in added_sentences(r["draft_text"], r["final_text"], knowledge):
            g = _grams(s)
            home = next((x for x in groups if _overlap(g, x["grams"]) >= SIMILAR), None)
            if home is None:
                home = {"grams": g, "sentences": Counter(), "evidence": [], "messages": Counter(), "skus": Counter()}
                groups.append(home)
            home["sentences"][s] += 1
            home["messages"][r["message"]] += 1
            home["skus"][r.get("sku") or ""] += 1
            home["evidence"].append(Evidence(message=r["message"], draft=r["draft_text"], final=r["final_text"]))
    out = []
    for x in groups:
        n = len(x["evidence"])
        if n < min_count:
            continue
        answer = x["sentences"].most_common(1)[0][0]
        question = x["messages"].most_common(1)[0][0]
        sku = x["skus"].most_common(1)[0][0]
        pid = hashlib.sha1(f"{question}\x1f{answer}".encode()).hexdigest()[:10]
        out.append(Proposal(id=pid, question=question, answer=answer, count=n, sku=sku, evidence=x["evidence"][:20]))
    return sorted(out, key=lambda p: (-p.count, p.id))


def write_review(path: Path, proposals: list[Proposal]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# 客服反复补充的事实 → 建议加进 FAQ。确认后运行：copilot feedback accept <id>\n" + yaml.safe_dump(
        [p.model_dump() for p in proposals], allow_unicode=True, sort_keys=False), encoding="utf-8")


def read_review(path: Path) -> list[Proposal]:
    if not path.exists():
        raise NotFoundError(f"还没有待审的建议：{path}", message_en=f"no proposals file {path}",
                            hint="先运行 copilot report proposals")
    return [Proposal.model_validate(x) for x in yaml.safe_load(path.read_text(encoding="utf-8")) or []]


def accept(proposal_id: str, review: Path, faqs: Path) -> Proposal:
    """Add exactly the proposal's row (问题, 回答, 分类, sku) to ``faqs``; a row already there is not added twice."""
    found = next((p for p in read_review(review) if p.id == proposal_id), None)
    if found is None:
        raise NotFoundError(f"没有编号为 {proposal_id} 的建议", message_en=f"unknown proposal {proposal_id}")
    text = faqs.read_text(encoding="utf-8-sig") if faqs.exists() else ""
    rows = list(csv.reader(io.StringIO(text))) if text else []
    if any(len(r) >= 2 and r[0] == found.question and r[1] == found.answer for r in rows):
        raise InputError(f"FAQ 里已经有这一条：{found.question}", message_en="already in the FAQ")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if not rows:
        writer.writerow(["问题", "回答", "分类", "sku"])
    writer.writerow([found.question, found.answer, "客服补充", found.sku])
    faqs.parent.mkdir(parents=True, exist_ok=True)
    with faqs.open("a", encoding="utf-8") as f:
        if text and not text.endswith("\n"):
            f.write("\n")
        f.write(out.getvalue())
    return found
