"""Paragraph and word diff between two versions of an article (pure functions, no I/O).

Paragraphs are aligned with difflib.SequenceMatcher; inside each block of replaced paragraphs the
most similar pairs are matched in order, and each matched pair gets a word-level diff. Every row
keeps both sides' text as segments, so the templates (side by side), the feeds (summaries) and the
JSON API all read the same structure, and either version can be rebuilt from it exactly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal, NamedTuple

from newsdiff.text import SYLLABIC, UNSPACED, UNSPACED_CHAR, word_count

FIELDS = ("title", "summary", "byline", "body", "corrections")
# What a change shows below its headline, in this order (the diff picture, its alt text).
BELOW_HEADLINE = ("summary", "body", "byline", "corrections")
FIELD_NAMES = {
    "title": "Headline",
    "summary": "Summary",
    "byline": "Byline",
    "body": "Body",
    "corrections": "Corrections",
}

# Words (with inner apostrophes), runs of whitespace, and single other characters: the tokens
# concatenate back to the text exactly. Scripts written without spaces (Chinese, Japanese, Thai,
# Lao, Myanmar, Khmer) are compared character by character (newsdiff.text.UNSPACED_CHAR): a run
# of them is a clause, not a word.
_TOKEN = re.compile(rf"\s+|{UNSPACED_CHAR}|[^\W{UNSPACED}]+(?:['\u2019][^\W{UNSPACED}]+)*|[^\w\s]")
_UNSPACED_TOKEN = re.compile(UNSPACED_CHAR)
_WORD = re.compile(r"\w")
_SYLLABIC_RUN = re.compile(f"[{SYLLABIC}]+")
PAIR_THRESHOLD = 0.5  # replaced paragraphs less similar than this show as removed + added
_MAX_PAIRING = 10_000  # above this many candidate pairs a block is shown as removed + added


class Segment(NamedTuple):
    op: Literal["equal", "delete", "insert"]
    text: str


@dataclass(frozen=True)
class Row:
    """One line of the side-by-side view: a paragraph of the old version, of the new, or both."""

    kind: Literal["equal", "changed", "deleted", "inserted"]
    old_index: int | None
    new_index: int | None
    old: tuple[Segment, ...] = ()
    new: tuple[Segment, ...] = ()

    @property
    def old_text(self) -> str | None:
        return None if self.old_index is None else "".join(s.text for s in self.old)

    @property
    def new_text(self) -> str | None:
        return None if self.new_index is None else "".join(s.text for s in self.new)

    def words(self, op: str) -> int:
        """Words deleted ("delete") or inserted ("insert") in this row."""
        side = self.old if op == "delete" else self.new
        return sum(_count_words(s.text) for s in side if s.op == op)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "old": [list(s) for s in self.old] if self.old_index is not None else None,
            "new": [list(s) for s in self.new] if self.new_index is not None else None,
        }


@dataclass(frozen=True)
class FieldDiff:
    name: str
    rows: tuple[Row, ...]

    @property
    def label(self) -> str:
        return FIELD_NAMES.get(self.name, self.name)

    @property
    def changed(self) -> bool:
        return any(r.kind != "equal" for r in self.rows)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r.kind == kind)

    @property
    def words_added(self) -> int:
        return sum(r.words("insert") for r in self.rows)

    @property
    def words_removed(self) -> int:
        return sum(r.words("delete") for r in self.rows)

    def side(self, which: Literal["old", "new"]) -> list[str]:
        """The field's paragraphs on one side, rebuilt from the rows."""
        texts = (r.old_text if which == "old" else r.new_text for r in self.rows)
        return [t for t in texts if t is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "paragraphs": {k: self.count(k) for k in ("changed", "inserted", "deleted")},
            "words": {"added": self.words_added, "removed": self.words_removed},
            "rows": [r.as_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class VersionDiff:
    old_number: int | None
    new_number: int
    fields: dict[str, FieldDiff] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        return [name for name in FIELDS if name in self.fields and self.fields[name].changed]

    def summary(self) -> str:
        """What changed, in a sentence or three, for feed entries and lists."""
        return " ".join(summary_sentences(self)) or "No visible change."

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.old_number,
            "to": self.new_number,
            "changed": self.changed,
            "summary": self.summary(),
            "fields": {name: f.as_dict() for name, f in self.fields.items()},
        }


def _count_words(text: str) -> int:
    """Words as newsdiff.text.word_count counts them, punctuation aside."""
    syllabic = sum(map(word_count, _SYLLABIC_RUN.findall(text)))
    return syllabic + sum(1 for t in _TOKEN.findall(_SYLLABIC_RUN.sub(" ", text)) if _WORD.match(t))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def diff_words(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Word-level diff of two paragraphs: old as equal/delete segments, new as equal/insert."""
    a, b = tokens(old), tokens(new)
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    # A lone space (or other whitespace) between two changes reads better as part of the change,
    # and so does one character of a script without spaces ("東京" for "大阪" is one change).
    spans: list[list] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal" and 0 < k < len(ops) - 1 and _joins_changes(a[i1:i2]):
            tag = "replace"
        if tag != "equal" and spans and spans[-1][0] != "equal":
            spans[-1][2], spans[-1][4] = i2, j2
        else:
            spans.append([tag, i1, i2, j1, j2])
    old_segs: list[Segment] = []
    new_segs: list[Segment] = []
    for tag, i1, i2, j1, j2 in spans:
        a_text, b_text = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            old_segs.append(Segment("equal", a_text))
            new_segs.append(Segment("equal", b_text))
            continue
        if a_text:
            old_segs.append(Segment("delete", a_text))
        if b_text:
            new_segs.append(Segment("insert", b_text))
    return _merged(old_segs), _merged(new_segs)


def _joins_changes(equal: list[str]) -> bool:
    """Whether an unchanged run between two changes reads as part of them: whitespace only, or
    a single character of a script without spaces."""
    if all(t.isspace() for t in equal):
        return True
    return len(equal) == 1 and bool(_UNSPACED_TOKEN.fullmatch(equal[0]))


def _merged(segs: list[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for seg in segs:
        if out and out[-1].op == seg.op:
            out[-1] = Segment(seg.op, out[-1].text + seg.text)
        else:
            out.append(seg)
    return tuple(out)


def _similarity(a: Counter, b: Counter) -> float:
    total = sum(a.values()) + sum(b.values())
    if not total:
        return 1.0
    return 2.0 * sum((a & b).values()) / total


def _pair(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    """The in-order matching of similar paragraphs with the highest total similarity."""
    m, n = len(old), len(new)
    if m * n > _MAX_PAIRING:
        return []
    bags_a = [Counter(t.casefold() for t in tokens(p) if not t.isspace()) for p in old]
    bags_b = [Counter(t.casefold() for t in tokens(p) if not t.isspace()) for p in new]
    sim = [[_similarity(x, y) for y in bags_b] for x in bags_a]
    score = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(m - 1, -1, -1):
        for j in range(n - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] >= PAIR_THRESHOLD:
                best = max(best, score[i + 1][j + 1] + sim[i][j])
            score[i][j] = best
    pairs, i, j = [], 0, 0
    while i < m and j < n:
        if sim[i][j] >= PAIR_THRESHOLD and score[i][j] == score[i + 1][j + 1] + sim[i][j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def diff_paragraphs(old: Sequence[str], new: Sequence[str]) -> tuple[Row, ...]:
    """Rows aligning two lists of paragraphs, with word diffs inside changed pairs."""
    rows: list[Row] = []

    def deleted(i: int) -> None:
        rows.append(Row("deleted", i, None, (Segment("delete", old[i]),) if old[i] else ()))

    def inserted(j: int) -> None:
        rows.append(Row("inserted", None, j, (), (Segment("insert", new[j]),) if new[j] else ()))

    matcher = SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                seg = (Segment("equal", old[i]),) if old[i] else ()
                rows.append(Row("equal", i, j, seg, seg))
            continue
        i, j = i1, j1
        for pi, pj in _pair(old[i1:i2], new[j1:j2]):
            for k in range(i, i1 + pi):
                deleted(k)
            for k in range(j, j1 + pj):
                inserted(k)
            i, j = i1 + pi, j1 + pj
            a_segs, b_segs = diff_words(old[i], new[j])
            rows.append(Row("changed", i, j, a_segs, b_segs))
            i, j = i + 1, j + 1
        for k in range(i, i2):
            deleted(k)
        for k in range(j, j2):
            inserted(k)
    return tuple(rows)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def diff_versions(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> VersionDiff:
    """Diff of two stored versions (mappings with title, summary, byline, body, corrections and
    number).

    old=None diffs against an empty version (everything in new shows as added). A field the old
    version has no key for was not recorded then (a version stored before summaries): it shows
    as unchanged, not as added.
    """
    old = dict(old or {})
    if old:
        for name in FIELDS:
            old.setdefault(name, new.get(name))
    fields = {
        name: FieldDiff(name, diff_paragraphs(_as_list(old.get(name)), _as_list(new.get(name))))
        for name in FIELDS
    }
    return VersionDiff(old.get("number"), new.get("number"), fields)


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


_QUOTED_STOP = tuple(f"{stop}”." for stop in ".!?…")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _line_change(field: FieldDiff | None, limit: int) -> str | None:
    """A one-line field's change (headline, summary) in a sentence, or None if unchanged."""
    if not (field and field.changed):
        return None
    old, new = " ".join(field.side("old")), " ".join(field.side("new"))
    if old and new:
        return f"{field.label} changed from {_quote(old, limit)} to {_quote(new, limit)}."
    if new:
        return f"{field.label}: {_quote(new, limit)}."
    return f"{field.label} {_quote(old, limit)} removed."


def summary_sentences(d: VersionDiff) -> list[str]:
    out = [
        sentence
        for name, limit in (("title", 120), ("summary", 200))
        if (sentence := _line_change(d.fields.get(name), limit))
    ]
    byline = d.fields.get("byline")
    if byline and byline.changed:
        old, new = ", ".join(byline.side("old")), ", ".join(byline.side("new"))
        out.append(f"Byline changed from {_quote(old or '(none)')} to {_quote(new or '(none)')}.")
    body = d.fields.get("body")
    if body and body.changed:
        counts = [
            (body.count("changed"), "changed"),
            (body.count("inserted"), "added"),
            (body.count("deleted"), "removed"),
        ]
        parts = [f"{n} {what}" for n, what in counts if n]
        if parts:  # "2 paragraphs changed, 1 added"
            first_n = next(n for n, _ in counts if n)
            parts[0] = parts[0].replace(" ", f" paragraph{'' if first_n == 1 else 's'} ", 1)
        added, removed = body.words_added, body.words_removed
        words = [f"{n} {what}" for n, what in ((added, "added"), (removed, "removed")) if n]
        if words:
            words[0] = words[0].replace(" ", " word " if (added or removed) == 1 else " words ", 1)
        detail = f" ({', '.join(words)})" if words else ""
        out.append(f"Body: {', '.join(parts)}{detail}.")
    corrections = d.fields.get("corrections")
    if corrections and corrections.changed:
        added = [r.new_text for r in corrections.rows if r.kind in ("inserted", "changed")]
        if added:
            out.append(f"Correction added: {_quote(added[-1], 200)}.")
        else:
            out.append("Correction removed.")
    # a quote that ends its own sentence ends this one: “… of debate.”, not “… of debate.”.
    return [s[:-1] if s.endswith(_QUOTED_STOP) else s for s in out]
