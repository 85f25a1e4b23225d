"""Article-body extraction quality on a directory of real pages, in either of two layouts:

    DIR/html/<id>.html.gz + DIR/ground-truth.json   the public article-extraction benchmark
        (github.com/scrapinghub/article-extraction-benchmark): {"<id>": {"articleBody", "url"}}
    DIR/html/<id>.html.gz + DIR/expected.json       the devset (../shared/corpus/devset):
        {"<id>": {"url", "with": [...], "without": [...]}}

    python benchmarks/extraction.py DIR [--outlet NAME|auto] [--verbose] [--misses]

Scores newsdiff's extraction (by default the generic path, as for an outlet without rules;
--outlet NAME uses that outlet's page rules, --outlet auto the outlet guessed from each page's
URL) and, in the same run, trafilatura alone: with its defaults and with favor_precision.
--misses lists, page by page, what newsdiff got wrong: a title other than the annotators', the
`with` snippets it missed and the `without` snippets it kept (the devset layout).

Where the ground truth has them (the devset), it also counts the titles, publication dates and
bylines newsdiff gets right, and the dates and authors of trafilatura's metadata in the same run.
A date is right when it is the annotators' day; a time stored in UTC, when some time zone (UTC-12
to UTC+14) puts it on that day. A byline is right when its names and the annotators' are the same
words, or one's words hold the other's (a co-author the annotators left out).

Scoring of ground-truth.json, as in the public benchmark: the body and the ground truth are
lower-cased word tokens; a page's precision and recall count the shared 4-token shingles (as
multisets); both are averaged over pages and F1 is their harmonic mean. Scoring of expected.json,
as the devset README says: over all pages, a `with` snippet found in the body is a true positive,
a missing one a false negative, a `without` snippet found a false positive (whitespace collapsed).

A page is lost when the extractor finds no body (or says it is not an article); the lost pages are
listed with newsdiff's reason. Time is the median milliseconds per page of the extraction call.

Last line: F1=<f> precision=<p> recall=<r> lost=<n> ms_per_page=<t> (newsdiff's extraction).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import trafilatura

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsdiff import pages  # noqa: E402

SHINGLE = 4
_TOKEN = re.compile(r"\w+")


@dataclass
class Page:
    id: str
    url: str
    html: bytes
    body: str | None = None  # ground-truth.json: the whole article text
    title: str | None = None  # expected.json: the headline, where the annotators gave one
    date: str | None = None  # expected.json: the publication day (YYYY-MM-DD)
    author: str | None = None  # expected.json: the byline's names
    with_: list[str] = field(default_factory=list)  # expected.json: snippets it must contain
    without: list[str] = field(default_factory=list)  # ... and must not contain


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    ms_per_page: float
    pages: dict[str, tuple[float, float]]  # id -> (precision, recall), or (tp, fn + fp) counts
    lost: dict[str, str]  # id -> why no body was found
    titles: tuple[int, int] = (0, 0)  # (right, pages with an expected title)
    dates: tuple[int, int] = (0, 0)  # (right, pages with an expected date)
    authors: tuple[int, int] = (0, 0)  # (right, pages with an expected author)
    misses: dict[str, list[str]] = field(default_factory=dict)  # id -> what it got wrong

    def line(self) -> str:
        return (
            f"F1={self.f1:.4f} precision={self.precision:.4f} recall={self.recall:.4f} "
            f"lost={len(self.lost)} ms_per_page={self.ms_per_page:.1f}"
        )


def shingles(text: str, n: int = SHINGLE) -> Counter:
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < n:  # a short text is one shorter shingle
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_score(truth: str, found: str) -> tuple[float, float]:
    expected, got = shingles(truth), shingles(found)
    if not expected and not got:
        return 1.0, 1.0
    shared = sum((expected & got).values())
    precision = shared / sum(got.values()) if got else 0.0
    recall = shared / sum(expected.values()) if expected else 0.0
    return precision, recall


def snippet_counts(page: Page, found: str) -> tuple[int, int, int]:
    """(true positives, false negatives, false positives) of a page's snippets in the body."""
    text = " ".join(found.split())
    hits = [" ".join(s.split()) in text for s in page.with_]
    false_positives = sum(" ".join(s.split()) in text for s in page.without if text)
    return sum(hits), len(hits) - sum(hits), false_positives


def load(directory: Path) -> list[Page]:
    """The pages of either layout, in id order."""
    snippets = directory / "expected.json"
    layout = snippets if snippets.is_file() else directory / "ground-truth.json"
    truth = json.loads(layout.read_text(encoding="utf-8"))
    found = []
    for page_id in sorted(truth):
        entry = truth[page_id]
        html = gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes())
        page = Page(page_id, entry.get("url") or "", html)
        if layout is snippets:
            page.with_, page.without = entry.get("with") or [], entry.get("without") or []
            page.title = entry.get("title") or None
            page.date = entry.get("date") or None
            author = entry.get("author")
            page.author = ", ".join(author) if isinstance(author, list) else author or None
        else:
            page.body = entry.get("articleBody") or ""
        found.append(page)
    return found


# An extractor: (html, url) -> the body text, or (body, Credits); raises Lost with the reason
# it found no body.
class Lost(Exception):
    pass


@dataclass
class Credits:
    title: str | None = None
    published: str | None = None
    byline: str | None = None


def newsdiff_extractor(outlet: str | None) -> Callable[[bytes, str], tuple[str, Credits]]:
    def run(html: bytes, url: str) -> tuple[str, Credits]:
        name = pages.outlet_for_url(url) if outlet == "auto" else outlet
        try:
            found = pages.extract_fetched(html, None, url, name)  # as crawls and `scrapy extract`
        except pages.NotArticle as exc:
            raise Lost(exc.reason) from exc
        credits = Credits(found.title, found.published, ", ".join(found.byline) or None)
        return "\n".join(found.body), credits

    return run


def trafilatura_metadata(html: bytes, url: str) -> tuple[str, Credits]:
    """trafilatura's metadata alone (its date is htmldate's, with its extensive search)."""
    found = trafilatura.extract_metadata(html.decode("utf-8", "replace"), default_url=url or None)
    return "", Credits(found.title, found.date, found.author)


def trafilatura_alone(html: bytes, url: str, **options) -> str:
    return trafilatura.extract(html, url=url or None, **options) or ""


def trafilatura_precise(html: bytes, url: str) -> str:
    return trafilatura_alone(html, url, favor_precision=True)


def same_title(expected: str, found: str | None) -> bool:
    """Equal once case, punctuation, spacing and soft hyphens are set aside."""
    return _title_key(expected) == _title_key(found or "")


def _title_key(title: str) -> str:
    return " ".join(_TOKEN.findall(title.replace("\xad", "").casefold()))


def same_day(expected: str, found: str | None) -> bool:
    """The annotators' day; a UTC time when some time zone (UTC-12 to UTC+14) puts it there."""
    if not found:
        return False
    if len(found) == 10 or not found.endswith("+00:00"):
        return found[:10] == expected
    when = datetime.fromisoformat(found)
    days = {(when + timedelta(hours=h)).date().isoformat() for h in (-12, 14)}
    return expected in days or expected == when.date().isoformat()


def same_names(expected: str, found: str | None) -> bool:
    """The same words, or one's words hold all of the other's (a co-author left out, a "PhD",
    "and" for a comma)."""
    ours, theirs = set(_title_key(found or "").split()), set(_title_key(expected).split())
    return bool(ours and theirs) and (ours <= theirs or theirs <= ours)


def evaluate(corpus: list[Page], extractor: Callable) -> Score:
    scores: dict[str, tuple[float, float]] = {}
    lost: dict[str, str] = {}
    times = []
    tp = fn = fp = 0
    credits = Counter()
    misses: dict[str, list[str]] = {}
    for page in corpus:
        start = time.perf_counter()
        found = Credits()
        try:
            text = extractor(page.html, page.url)
        except Lost as exc:
            text, lost[page.id] = "", str(exc)
        times.append((time.perf_counter() - start) * 1000)
        if isinstance(text, tuple):
            text, found = text
        wrong = []
        for name, expected, got, same in (
            ("title", page.title, found.title, same_title),
            ("date", page.date, found.published, same_day),
            ("byline", page.author, found.byline, same_names),
        ):
            if expected:
                credits[name] += 1
                credits[name + "/right"] += same(expected, got)
                if not same(expected, got):
                    wrong.append(f"{name} {got!r}, expected {expected!r}")
        if not text.strip():
            lost.setdefault(page.id, "empty")
        if page.body is None:
            t, n, p = snippet_counts(page, text)
            tp, fn, fp = tp + t, fn + n, fp + p
            scores[page.id] = (t, n + p)
            flat = " ".join(text.split())
            wrong += [f"missed {s!r}" for s in page.with_ if " ".join(s.split()) not in flat]
            wrong += [f"kept {s!r}" for s in page.without if flat and " ".join(s.split()) in flat]
        else:
            scores[page.id] = page_score(page.body, text)
        if wrong:
            misses[page.id] = wrong
    if corpus and corpus[0].body is None:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
    else:
        precision = statistics.fmean(p for p, _ in scores.values()) if scores else 0.0
        recall = statistics.fmean(r for _, r in scores.values()) if scores else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    median = statistics.median(times) if times else 0.0
    right = {n: (credits[n + "/right"], credits[n]) for n in ("title", "date", "byline")}
    return Score(
        *(precision, recall, f1, median, scores, lost),
        *(right["title"], right["date"], right["byline"], misses),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--outlet",
        metavar="NAME",
        help="use this outlet's page rules (auto: the outlet of each page's URL)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="print each page's scores")
    parser.add_argument(
        "--misses", action="store_true", help="print each page's wrong title and snippets"
    )
    args = parser.parse_args(argv)
    if args.outlet and args.outlet != "auto" and args.outlet not in pages.PAGES:
        import newsdiff.spiders.generic  # noqa: F401, PLC0415 - registers declarative outlets

        if args.outlet not in pages.PAGES:
            parser.error(f"unknown outlet {args.outlet!r}; known: {', '.join(sorted(pages.PAGES))}")
    corpus = load(args.directory)
    if not corpus:
        parser.error(f"{args.directory} lists no pages")
    label = f"newsdiff ({args.outlet or 'generic'})"
    baseline = evaluate(corpus, trafilatura_alone)
    precise = evaluate(corpus, trafilatura_precise)
    ours = evaluate(corpus, newsdiff_extractor(args.outlet))
    if args.verbose:
        print(f"{'page':50} {'newsdiff':>14} {'trafilatura':>16}")
        for page_id in ours.pages:
            (p, r), (bp, br) = ours.pages[page_id], baseline.pages[page_id]
            print(f"{page_id[:50]:50} {p:6.3f}/{r:6.3f}  {bp:7.3f}/{br:6.3f}")
    if args.misses:
        for page_id, wrong in ours.misses.items():
            print(f"{page_id}: " + "; ".join(wrong))
    for page_id, reason in sorted(ours.lost.items()):
        print(f"lost: {page_id} ({reason}) {next(p.url for p in corpus if p.id == page_id)}")
    print(f"{len(corpus)} pages")
    print(f"trafilatura alone: {baseline.line()}")
    print(f"trafilatura alone, favor_precision: {precise.line()}")
    if ours.titles[1]:
        metadata = evaluate(corpus, trafilatura_metadata)
        print(
            f"trafilatura metadata: dates right {metadata.dates[0]} of {metadata.dates[1]}, "
            f"authors right {metadata.authors[0]} of {metadata.authors[1]}"
        )
        print(
            f"{label}: titles right {ours.titles[0]} of {ours.titles[1]}, dates right "
            f"{ours.dates[0]} of {ours.dates[1]}, bylines right {ours.authors[0]} of "
            f"{ours.authors[1]}"
        )
    print(f"{label}: {ours.line()}")
    print(ours.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
