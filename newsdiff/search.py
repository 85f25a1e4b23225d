"""Full-text search over every version and every change: a derived tantivy index (no Scrapy).

The index lives in NEWSDIFF_DATA_DIR/index/<database>/ and is never the only copy of anything:
`scrapy index --rebuild` builds it again from the versions in MongoDB. A rebuild writes a new
generation directory and then switches the CURRENT file to it, so readers never see half an
index. Each version is one document: its headline and body (for "which articles ever said X"),
and the text its edit added and removed, computed with newsdiff.diff against the version before
it (for "where was X removed").

Queries are a small language of their own, never tantivy's (whose syntax errors would refuse a
request): words and "quoted phrases" must all match, `-word` must not, `added:`, `removed:` and
`title:` limit a word or phrase to that part.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import tantivy

from newsdiff.diff import FIELDS, tokens
from newsdiff.text import UNSPACED, UNSPACED_CHAR

__all__ = [
    "CrawlIndexer",
    "Hit",
    "IndexOutdated",
    "IndexUnavailable",
    "Results",
    "SearchIndex",
    "parse_query",
    "version_document",
]

TEXT_FIELDS = ("title", "body", "added", "removed")
PREFIXES = {"added": ("added",), "removed": ("removed",), "title": ("title",)}
MAX_CLAUSES = 12  # words and phrases per query: enough for any phrase a person types
SNIPPET_CHARS = 220
WRITER_HEAP = 64_000_000
MAX_WINDOW = 2000  # hits read to fill one page of articles (text search groups versions)
LOCK_SECONDS = 120.0  # how long an indexing run waits for another one to finish
# Words: runs of letters and digits, and each character of a script written without spaces
# (Chinese, Japanese, Thai...: a run of those is a clause; a word in it is found as the phrase of
# its characters).
_WORDS = re.compile(rf"{UNSPACED_CHAR}|[^\W_{UNSPACED}]+")
_UNSPACED_RUN = re.compile(rf"(?:{UNSPACED_CHAR}){{2,}}")
_UNSPACED_CHAR = re.compile(UNSPACED_CHAR)
_UNSPACED_TEXT = re.compile(rf"(?:{UNSPACED_CHAR})+")
_ANY_UNSPACED = re.compile(f"[{UNSPACED}]")
_ZWSP = "\u200b"
# Bump when what the index holds changes: an index of another format is rebuilt by
# `scrapy index` and not written to before (its words would not be found alike).
FORMAT = 2  # 2: scripts written without spaces, character by character (spaced())
_CLAUSE = re.compile(r'(-?)(?:(added|removed|title):)?(?:"([^"]*)"?|(\S+))')


class IndexUnavailable(RuntimeError):
    """No index has been built yet (or it cannot be read)."""


class IndexOutdated(RuntimeError):
    """The index was built by an older release (another FORMAT): `scrapy index` rebuilds it."""


def spaced(text: str) -> str:
    """Text as the index takes it: a zero-width space between the characters of a script written
    without spaces, where tantivy's tokenizer then cuts them one by one as it cuts words at
    spaces (its own regex tokenizer would, at a fifth of the speed). Invisible, and taken out
    of snippets."""
    if not _ANY_UNSPACED.search(text):
        return text
    return _UNSPACED_RUN.sub(lambda m: _ZWSP.join(_UNSPACED_CHAR.findall(m.group())), text)


def _spaced(texts: list[str]) -> list[str]:
    return [spaced(t) for t in texts]


def schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    for name in ("vid", "article_id", "outlet", "label", "url"):
        b.add_text_field(name, stored=True, tokenizer_name="raw")
    b.add_integer_field("number", stored=True, indexed=True)
    b.add_date_field("fetched_at", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        b.add_text_field(name, stored=True)
    # Neighbouring word pairs of headline and text: a phrase is found by term lookups instead of
    # checking word positions in every version that has its words (common words are in most).
    b.add_text_field("pairs", stored=False, tokenizer_name="raw", index_option="freq")
    return b.build()


def words(text: str) -> list[str]:
    """Words as tantivy's default tokenizer cuts the index's text (spaced()): letters and digits
    and each character of a script without spaces, lower-cased, at most 40 bytes."""
    return [w for w in _WORDS.findall(text.lower()) if len(w.encode()) <= 40]


def pairs(texts: Iterable[str]) -> list[str]:
    """Each text's neighbouring word pairs ("a b"); never across two texts (paragraphs)."""
    out = []
    for text in texts:
        ws = words(text)
        out += [f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False)]
    return out


SCHEMA = schema()


# --- documents ------------------------------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(x) for x in value]


def _word_runs(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """Word-level runs deleted from old and inserted in new (newsdiff.diff's tokens, without
    the whitespace: a quarter of diff_words' work, and search ignores spacing anyway)."""
    a = [t for t in tokens(" \n ".join(old)) if not t.isspace()]
    b = [t for t in tokens(" \n ".join(new)) if not t.isspace()]
    added, removed = [], []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("delete", "replace"):
            removed.append(_run_text(a[i1:i2]))
        if tag in ("insert", "replace"):
            added.append(_run_text(b[j1:j2]))
    return added, removed


def _run_text(run: list[str]) -> str:
    """A run of tokens as text: words apart, the characters of a script without spaces not."""
    text = run[0] if run else ""
    for previous, token in zip(run, run[1:], strict=False):
        both = _UNSPACED_CHAR.fullmatch(previous) and _UNSPACED_CHAR.fullmatch(token)
        text += token if both else f" {token}"
    return text


def change_text(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[list, list]:
    """The runs of text an edit added and removed (every field), one string per run: whole
    paragraphs where paragraphs came or went, the words that differ inside replaced ones. A
    field the old version has no key for was not recorded then (newsdiff.diff.diff_versions)."""
    if old is None:
        return [], []
    added: list[str] = []
    removed: list[str] = []
    for name in FIELDS:
        if name not in old:
            continue
        a, b = _as_list(old.get(name)), _as_list(new.get(name))
        if a == b:
            continue
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "delete":
                removed += a[i1:i2]
            elif tag == "insert":
                added += b[j1:j2]
            elif tag == "replace":
                more, less = _word_runs(a[i1:i2], b[j1:j2])
                added += more
                removed += less
    return [t for t in added if t.strip()], [t for t in removed if t.strip()]


def version_document(version: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict:
    """The index document of one version (ids as strings), with what its edit changed."""
    added, removed = change_text(previous, version)
    title = version.get("title") or ""
    body = [
        *_as_list(version.get("summary")),
        *(p for p in version.get("body") or [] if p),
        *(version.get("corrections") or []),
    ]
    aid = str(version["article_id"])
    fetched = version["fetched_at"]
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    return {
        "vid": f"{aid}:{version['number']}",
        "article_id": aid,
        "number": int(version["number"]),
        "outlet": version.get("outlet") or "",
        "label": version.get("label") or "",
        "url": version.get("url") or "",
        "fetched_at": fetched,
        "title": spaced(title),
        "body": _spaced(body),
        "added": _spaced(added),
        "removed": _spaced(removed),
        "pairs": pairs([title, *body]),
    }


# --- queries ----------------------------------------------------------------------------------


@dataclass
class Clause:
    text: str  # a word or a phrase, as typed
    fields: tuple[str, ...]  # where it must (or must not) occur
    negate: bool = False


def parse_query(q: str, default_fields: tuple[str, ...]) -> list[Clause]:
    """Words, "phrases", -exclusions and added:/removed:/title: prefixes; anything else is text."""
    clauses = []
    for m in _CLAUSE.finditer(q or ""):
        neg, prefix, phrase, word = m.groups()
        text = phrase if phrase is not None else word
        text = re.sub(r'[\\"]', " ", text or "").strip()
        if not text:
            continue
        fields = PREFIXES[prefix] if prefix else default_fields
        clauses.append(Clause(text, fields, negate=bool(neg)))
    return clauses[:MAX_CLAUSES]


def wants_changes(q: str) -> bool:
    """Whether a query names what an edit added or removed (a search of the changes)."""
    return any(c.fields in (("added",), ("removed",)) for c in parse_query(q, ("body",)))


@dataclass
class Hit:
    article_id: str
    number: int
    outlet: str
    label: str
    url: str
    title: str
    fetched_at: datetime
    score: float
    # (text, highlighted) pieces of the best passage, per field: rendered with escaping.
    snippets: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    versions: int = 1  # matching versions of this article (text search groups them)

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "number": self.number,
            "outlet": self.outlet,
            "label": self.label,
            "url": self.url,
            "title": self.title,
            "fetched_at": self.fetched_at,
            "score": round(self.score, 4),
            "matching_versions": self.versions,
            "snippets": {
                name: {
                    "text": "".join(t for t, _ in parts),
                    "highlights": [t for t, hl in parts if hl],
                }
                for name, parts in self.snippets.items()
            },
        }


@dataclass
class Results:
    hits: list[Hit]
    total: int  # matching versions
    more: bool = False  # another page follows
    indexed_to: datetime | None = None  # newest version the index had seen


def _pieces(snippet: tantivy.Snippet, phrases: Collection[str] = ()) -> list[tuple[str, bool]]:
    """A snippet as (text, highlighted) pieces, without spaced()'s zero-width spaces; tantivy's
    ranges are UTF-8 byte offsets. In a script written without spaces tantivy marks each of a
    query's characters wherever it is; only where they spell one of the query's `phrases`
    (its runs of such characters) do they stay marked."""
    raw = snippet.fragment().encode()
    out, pos = [], 0
    for r in sorted(snippet.highlighted(), key=lambda r: r.start):
        if r.start < pos:
            continue
        if r.start > pos:
            out.append((raw[pos : r.start].decode(errors="replace"), False))
        out.append((raw[r.start : r.end].decode(errors="replace"), True))
        pos = r.end
    if pos < len(raw):
        out.append((raw[pos:].decode(errors="replace"), False))
    # the characters of one word: one piece
    merged = _joined([(text.replace(_ZWSP, ""), hl) for text, hl in out])
    if not phrases:
        return merged
    pieces: list[tuple[str, bool]] = []
    for text, hl in merged:
        pieces += _marked(text, phrases) if hl and _ANY_UNSPACED.search(text) else [(text, hl)]
    return _joined(pieces)


def _marked(text: str, phrases: Collection[str]) -> list[tuple[str, bool]]:
    """A marked run split into the query's phrases (marked) and the characters around them."""
    found = re.compile("|".join(map(re.escape, sorted(phrases, key=len, reverse=True))))
    out, pos = [], 0
    for match in found.finditer(text):
        out += [(text[pos : match.start()], False), (match.group(), True)]
        pos = match.end()
    return [*out, (text[pos:], False)]


def _joined(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Pieces with neighbours of the same kind made one, and empty ones left out."""
    joined: list[tuple[str, bool]] = []
    for text, hl in pieces:
        if joined and joined[-1][1] == hl:
            joined[-1] = (joined[-1][0] + text, hl)
        elif text:
            joined.append((text, hl))
    return joined


# --- the index --------------------------------------------------------------------------------


class SearchIndex:
    """One database's index under `root`. Writers take a file lock (one at a time, across
    processes); readers reopen when a writer commits or a rebuild switches generations."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self._reader: tuple[str, float, tantivy.Index] | None = None
        self._lock = threading.Lock()

    # -- layout
    def _current(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except OSError:
            return None
        return name if re.fullmatch(r"g[0-9a-z_-]+", name) else None

    def state(self) -> dict[str, Any]:
        gen = self._current()
        if gen is None:
            return {}
        try:
            return json.loads((self.root / gen / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self, gen: str, state: dict[str, Any]) -> None:
        tmp = self.root / gen / f"state.json.{os.getpid()}"
        tmp.write_text(json.dumps(state))
        tmp.replace(self.root / gen / "state.json")

    def _switch(self, gen: str) -> None:
        tmp = self.root / f"CURRENT.{os.getpid()}"
        tmp.write_text(gen + "\n")
        tmp.replace(self.root / "CURRENT")

    @contextlib.contextmanager
    def _locked(self, timeout: float = LOCK_SECONDS) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "write.lock", "a") as f:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("another indexing run holds the index lock") from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # -- writing
    def add(self, pairs: Iterable[tuple[Mapping, Mapping | None]]) -> int:
        """Index (version, previous version) pairs into the current generation (created when
        there is none); a version indexed before is replaced. Returns how many were added."""
        with self._locked():
            gen = self._current()
            if gen is None:
                gen = self._new_generation()
                self._switch(gen)
            elif not self.current_format():
                raise IndexOutdated(
                    "the search index was built by an older release: `scrapy index` rebuilds it"
                )
            return self._write(gen, pairs, replace=True)

    def current_format(self) -> bool:
        """Whether the current generation is of this release's FORMAT (False: none, or older)."""
        return self.state().get("format") == FORMAT

    def rebuild(self, pairs: Iterable[tuple[Mapping, Mapping | None]]) -> int:
        """A whole new index from these pairs, switched in when complete; old ones removed."""
        with self._locked():
            gen = self._new_generation()
            try:
                n = self._write(gen, pairs, replace=False)
            except BaseException:
                shutil.rmtree(self.root / gen, ignore_errors=True)
                raise
            self._switch(gen)
            for old in self.root.glob("g*"):
                if old.name != gen and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)  # open readers keep their files
            return n

    def _new_generation(self) -> str:
        gen = f"g{int(time.time())}-{uuid.uuid4().hex[:8]}"
        (self.root / gen).mkdir(parents=True)
        tantivy.Index(SCHEMA, path=str(self.root / gen))
        state = {"created": _iso(datetime.now(UTC)), "high_water": None, "format": FORMAT}
        self._write_state(gen, state)
        return gen

    def _write(self, gen: str, pairs, *, replace: bool) -> int:
        index = tantivy.Index(SCHEMA, path=str(self.root / gen))
        writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
        state = self.state_of(gen)
        high = _parse(state.get("high_water"))
        n = 0
        try:
            for version, previous in pairs:
                doc = version_document(version, previous)
                if replace:
                    writer.delete_documents_by_term("vid", doc["vid"])
                writer.add_document(tantivy.Document(**doc))
                high = doc["fetched_at"] if high is None else max(high, doc["fetched_at"])
                n += 1
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            with contextlib.suppress(Exception):
                writer.rollback()
            raise
        state.update(high_water=_iso(high) if high else None, updated=_iso(datetime.now(UTC)))
        self._write_state(gen, state)
        return n

    def state_of(self, gen: str) -> dict[str, Any]:
        try:
            return json.loads((self.root / gen / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    # -- reading
    def _index(self) -> tantivy.Index:
        gen = self._current()
        if gen is None:
            raise IndexUnavailable("the search index has not been built: run scrapy index")
        meta = self.root / gen / "meta.json"
        try:
            mtime = meta.stat().st_mtime
        except OSError:
            raise IndexUnavailable("the search index is missing its files") from None
        with self._lock:
            try:
                if self._reader is None or self._reader[0] != gen:
                    self._reader = (gen, mtime, tantivy.Index.open(str(self.root / gen)))
                elif self._reader[1] != mtime:
                    self._reader[2].reload()
                    self._reader = (gen, mtime, self._reader[2])
            except (OSError, ValueError) as exc:  # e.g. a rebuild removed it just now
                raise IndexUnavailable(f"the search index could not be opened: {exc}") from None
            return self._reader[2]

    def available(self) -> bool:
        try:
            self._index()
        except IndexUnavailable:
            return False
        return True

    def search(
        self,
        q: str,
        *,
        changes: bool = False,
        added: str | None = None,
        removed: str | None = None,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        newest: bool = False,
        limit: int = 20,
        offset: int = 0,
    ) -> Results:
        """Text search (grouped by article: its best-matching version) or, with changes=True,
        a search of the changes (one hit per edit). added/removed: more clauses."""
        default = ("added", "removed") if changes else ("title", "body")
        clauses = parse_query(q or "", default)
        clauses += parse_query(added or "", ("added",)) if added else []
        clauses += parse_query(removed or "", ("removed",)) if removed else []
        # added:/removed: clauses make any query a search of the changes.
        changes = changes or any(c.fields in (("added",), ("removed",)) for c in clauses)
        if not any(not c.negate for c in clauses):
            return Results([], 0)
        index = self._index()
        searcher = index.searcher()
        text_queries = []
        subqueries: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for c in clauses:
            query = index.parse_query(f'"{spaced(c.text)}"', list(c.fields))
            occur = tantivy.Occur.MustNot if c.negate else tantivy.Occur.Must
            subqueries.append((occur, _by_pairs(c) or query))
            if not c.negate:
                text_queries.append(query)  # highlights the words, whichever way it matched
        if outlet:
            subqueries.append(
                (tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "outlet", outlet))
            )
        if since or until:
            subqueries.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        SCHEMA,
                        "fetched_at",
                        tantivy.FieldType.Date,
                        _clamp(since or tantivy.MIN_DATETIME),
                        _clamp(until or tantivy.MAX_DATETIME),
                        include_lower=True,
                        include_upper=False,
                    ),
                )
            )
        query = tantivy.Query.boolean_query(subqueries)
        highlight = tantivy.Query.boolean_query([(tantivy.Occur.Should, tq) for tq in text_queries])
        # Grouping by article needs more hits than a page; bounded so a page costs the same.
        # Grouping by article needs more hits than a page: a window that grows (bounded) until
        # it holds a page of articles, so a page costs about the same at any archive size.
        want = offset + limit + 1
        window = min(want * (1 if changes else 4), MAX_WINDOW)
        while True:
            found = searcher.search(query, window, count=True, **_order(newest))
            hits, docs = _collect(searcher, found, group=not changes, newest=newest)
            if changes or len(hits) >= want or found.count <= window or window >= MAX_WINDOW:
                break
            window = min(window * 4, MAX_WINDOW)
        page = hits[offset : offset + limit]
        phrases = {r for c in clauses if not c.negate for r in _UNSPACED_TEXT.findall(c.text)}
        names = ("added", "removed") if changes else ("title", "body")
        generators = {}
        for name in names:
            g = tantivy.SnippetGenerator.create(searcher, highlight, SCHEMA, name)
            g.set_max_num_chars(SNIPPET_CHARS)
            generators[name] = g
        for hit, doc in zip(page, docs[offset : offset + limit], strict=True):
            for name in names:
                pieces = _pieces(generators[name].snippet_from_doc(doc), phrases)
                if pieces and (any(hl for _, hl in pieces) or name in ("body", "added")):
                    hit.snippets[name] = pieces
        return Results(
            page,
            found.count,
            more=len(hits) > offset + limit,
            indexed_to=_parse(self.state().get("high_water")),
        )


def _by_pairs(clause: Clause) -> tantivy.Query | None:
    """A phrase of headline and text as all of its word pairs (None: not such a phrase)."""
    if clause.fields != ("title", "body"):
        return None
    found = pairs([clause.text])
    if not found:
        return None
    terms = [tantivy.Query.term_query(SCHEMA, "pairs", p) for p in dict.fromkeys(found)]
    if len(terms) == 1:
        return terms[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, t) for t in terms])


def _order(newest: bool) -> dict[str, Any]:
    return {"order_by_field": "fetched_at"} if newest else {}


def _collect(searcher, found, *, group: bool, newest: bool) -> tuple[list[Hit], list]:
    """Hits (one per article when grouping) and their documents, best first."""
    ranked = []
    for score, address in found.hits:
        doc = searcher.doc(address)
        key = (doc.get_first("fetched_at"), doc.get_first("article_id"), doc.get_first("number"))
        ranked.append((0.0 if newest else round(float(score), 4), key, doc))
    # Equal scores (the same text in several versions) in a fixed order, newest first, so the
    # answer does not depend on how the index is split into segments.
    ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
    hits: list[Hit] = []
    docs: list = []
    seen: dict[str, Hit] = {}
    for score, _, doc in ranked:
        aid = doc.get_first("article_id")
        if group and aid in seen:
            seen[aid].versions += 1
            continue
        hit = Hit(
            article_id=aid,
            number=doc.get_first("number"),
            outlet=doc.get_first("outlet"),
            label=doc.get_first("label"),
            url=doc.get_first("url"),
            title=(doc.get_first("title") or "").replace(_ZWSP, ""),
            fetched_at=doc.get_first("fetched_at"),
            score=score,
        )
        seen[aid] = hit
        hits.append(hit)
        docs.append(doc)
    return hits, docs


def _clamp(value: datetime) -> datetime:
    """Into the range tantivy's dates cover (any day a client names is a valid filter)."""
    return min(max(value, tantivy.MIN_DATETIME), tantivy.MAX_DATETIME)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- keeping it up to date from the store -------------------------------------------------------


def index_root(settings: Mapping[str, Any] | None = None) -> Path:
    """NEWSDIFF_DATA_DIR/index/<database>: one index per database, like the data it derives."""
    from newsdiff.store import data_dir

    settings = settings or {}
    db = settings.get("NEWSDIFF_MONGO_DB") or os.environ.get("NEWSDIFF_MONGO_DB") or "newsdiff"
    return data_dir(settings) / "index" / db


INDEXED_FIELDS = (
    *("outlet", "label", "url", "fetched_at"),
    *("title", "summary", "byline", "body", "corrections"),
)


def indexed_fields(version: Mapping[str, Any], article_id: Any, number: int) -> dict[str, Any]:
    """What the index needs of a version just stored (kept until the crawl closes)."""
    return {
        "article_id": article_id,
        "number": number,
        **{k: version.get(k) for k in INDEXED_FIELDS},
    }


def index_versions(store, index: SearchIndex, versions: Iterable[Mapping[str, Any]]) -> int:
    """Index versions just stored, each with its edit: the version before it is read from the
    store unless it is among them (a first version needs no read at all)."""
    from newsdiff.store.indexing import versions_by_key

    versions = list(versions)
    if not versions:
        return 0
    given = {(str(v["article_id"]), v["number"]): v for v in versions}
    wanted = [
        (v["article_id"], v["number"] - 1)
        for v in versions
        if v["number"] > 0 and (str(v["article_id"]), v["number"] - 1) not in given
    ]
    stored = versions_by_key(store, wanted)
    pairs = []
    for v in versions:
        key = (str(v["article_id"]), v["number"] - 1)
        pairs.append((v, given.get(key) or stored.get(key) if v["number"] > 0 else None))
    return index.add(pairs)


class CrawlIndexer:
    """A crawl's new versions, added to the search index in batches of `batch` on a thread of
    its own while the crawl goes on (the rest by close()): the index follows a long crawl, no
    crawl holds its versions in memory until its end, and a killed crawl leaves at most a batch
    to the next `scrapy index`. After a failure (the index locked or unwritable) it stops
    trying and counts the rest as failed: the versions are stored, `scrapy index` adds them."""

    def __init__(self, store, root: Path, batch: int = 1000):
        self.store, self.root, self.batch = store, Path(root), max(1, batch)
        self.indexed = self.failed = 0
        self.seconds = 0.0
        self.error: Exception | None = None
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="newsdiff-index")

    def add(self, fields: dict[str, Any]) -> None:
        """One stored version (indexed_fields(...)); safe from any thread."""
        with self._lock:
            self._pending.append(fields)
            if len(self._pending) < self.batch:
                return
            versions, self._pending = self._pending, []
        self._thread.submit(self._index, versions)

    def close(self) -> None:
        """Index what is left and wait until every batch is done."""
        with self._lock:
            versions, self._pending = self._pending, []
        if versions:
            self._thread.submit(self._index, versions)
        self._thread.shutdown(wait=True)

    def _index(self, versions: list[dict[str, Any]]) -> None:
        if self.error is not None:
            self.failed += len(versions)
            return
        started = time.monotonic()
        try:
            self.indexed += index_versions(self.store, SearchIndex(self.root), versions)
        except Exception as exc:  # derived data: never at the cost of the crawl
            self.error = exc
            self.failed += len(versions)
        self.seconds += time.monotonic() - started


def catch_up(store, index: SearchIndex, overlap_hours: float = 24.0) -> int:
    """Index every version fetched since the index's high-water mark (less an overlap, for
    crawls that stored older fetches late); everything when there is no index yet."""
    from datetime import timedelta

    from newsdiff.store.indexing import pairs_since

    high = _parse(index.state().get("high_water"))
    if high is None or not index.current_format():  # none yet, or an older release's
        return rebuild(store, index)
    return index.add(pairs_since(store, high - timedelta(hours=overlap_hours)))


def rebuild(store, index: SearchIndex) -> int:
    from newsdiff.store.indexing import all_pairs

    return index.rebuild(_prefetched(all_pairs(store)))


def _prefetched(items: Iterable, depth: int = 2000) -> Iterator:
    """items read on a thread of their own: the database reads while this thread diffs and
    indexes (an error on the reading side is raised here)."""
    import queue

    q: queue.Queue = queue.Queue(depth)
    done = object()
    failure: list[BaseException] = []

    def read() -> None:
        try:
            for item in items:
                q.put(item)
        except BaseException as exc:  # handed to the consumer
            failure.append(exc)
        finally:
            q.put(done)

    threading.Thread(target=read, name="index-reader", daemon=True).start()
    while (item := q.get()) is not done:
        yield item
    if failure:
        raise failure[0]
