"""Article-body extraction quality on a directory laid out like the public article-extraction
benchmark (github.com/scrapinghub/article-extraction-benchmark):

    DIR/html/<id>.html.gz        the pages, gzipped
    DIR/ground-truth.json        {"<id>": {"articleBody": "...", "url": "..."}, ...}

    python benchmarks/extraction.py DIR [--outlet NAME] [--verbose]

Scores newsdiff's extraction (by default the generic path: JSON-LD, then trafilatura, as for an
outlet without rules; --outlet NAME uses that outlet's page rules, --outlet auto the outlet
guessed from each page's URL) and, in the same run, trafilatura alone with its defaults.

Scoring as in the public benchmark: the body and the ground truth are lower-cased word tokens;
a page's precision and recall count the shared 4-token shingles (as multisets); precision and
recall are averaged over pages and F1 is their harmonic mean. A page where the extractor finds
nothing (or says it is not an article) scores 0 and 0. Time is the median milliseconds per page
of the extraction call alone.

Last line: F1=<f> precision=<p> recall=<r> ms_per_page=<t> (newsdiff's extraction).
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
from dataclasses import dataclass
from pathlib import Path

import trafilatura

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsdiff import pages  # noqa: E402

SHINGLE = 4
_TOKEN = re.compile(r"\w+")


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    ms_per_page: float
    pages: dict[str, tuple[float, float]]  # id -> (precision, recall)

    def line(self) -> str:
        return (
            f"F1={self.f1:.4f} precision={self.precision:.4f} recall={self.recall:.4f} "
            f"ms_per_page={self.ms_per_page:.1f}"
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


def load(directory: Path) -> list[tuple[str, str, str, bytes]]:
    """(id, url, articleBody, html bytes) for each page of the ground truth, in id order."""
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    found = []
    for page_id in sorted(truth):
        html = gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes())
        entry = truth[page_id]
        found.append((page_id, entry.get("url") or "", entry.get("articleBody") or "", html))
    return found


def newsdiff_extractor(outlet: str | None) -> Callable[[bytes, str], str]:
    def run(html: bytes, url: str) -> str:
        name = pages.outlet_for_url(url) if outlet == "auto" else outlet
        try:
            return "\n".join(pages.extract(html, url, name).body)
        except pages.NotArticle:
            return ""

    return run


def trafilatura_alone(html: bytes, url: str) -> str:
    return trafilatura.extract(html, url=url or None) or ""


def evaluate(corpus: list[tuple[str, str, str, bytes]], extractor: Callable) -> Score:
    scores: dict[str, tuple[float, float]] = {}
    times = []
    for page_id, url, truth, html in corpus:
        start = time.perf_counter()
        text = extractor(html, url)
        times.append((time.perf_counter() - start) * 1000)
        scores[page_id] = page_score(truth, text)
    precision = statistics.fmean(p for p, _ in scores.values()) if scores else 0.0
    recall = statistics.fmean(r for _, r in scores.values()) if scores else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, statistics.median(times) if times else 0.0, scores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--outlet",
        metavar="NAME",
        help="use this outlet's page rules (auto: the outlet of each page's URL)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="print each page's scores")
    args = parser.parse_args(argv)
    if args.outlet and args.outlet != "auto" and args.outlet not in pages.PAGES:
        import newsdiff.spiders.generic  # noqa: F401, PLC0415 - registers declarative outlets

        if args.outlet not in pages.PAGES:
            parser.error(f"unknown outlet {args.outlet!r}; known: {', '.join(sorted(pages.PAGES))}")
    corpus = load(args.directory)
    if not corpus:
        parser.error(f"{args.directory}/ground-truth.json lists no pages")
    label = f"newsdiff ({args.outlet or 'generic'})"
    baseline = evaluate(corpus, trafilatura_alone)
    ours = evaluate(corpus, newsdiff_extractor(args.outlet))
    if args.verbose:
        print(f"{'page':50} {'newsdiff P/R':>14} {'trafilatura P/R':>16}")
        for page_id in ours.pages:
            (p, r), (bp, br) = ours.pages[page_id], baseline.pages[page_id]
            print(f"{page_id[:50]:50} {p:6.3f}/{r:6.3f}  {bp:7.3f}/{br:6.3f}")
    print(f"{len(corpus)} pages")
    print(f"trafilatura alone: {baseline.line()}")
    print(f"{label}: {ours.line()}")
    print(ours.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
