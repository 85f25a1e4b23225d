"""Canonical URLs, text normalisation, field hashes and change labels (pure functions)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Bump when normalise() or fingerprint() change: stored hashes are only comparable within a version.
NORMALISER_VERSION = "3"  # 2: datelines in other languages; long lines are text; 3: "5 minutes ago"

HASHED_FIELDS = ("title", "summary", "byline", "body", "corrections")
# Fields hashed since a later release. A version stored before has no hash for them, which counts
# as the field being empty, and they join the combined hash only when not empty, so that the
# combined hashes stored before (flip-flops are found by them) still match.
LATER_FIELDS = frozenset({"summary"})

# Scripts written without spaces between words. A Han or kana character is about a word; Thai,
# Lao, Myanmar and Khmer put spaces between phrases only, and their words are about four code
# points long (vowel signs and tone marks included).
IDEOGRAPHIC = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, Han
SYLLABIC = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
UNSPACED = IDEOGRAPHIC + SYLLABIC
_WORDS = re.compile(f"[{IDEOGRAPHIC}]|[{SYLLABIC}]{{1,4}}|[^\\s{UNSPACED}]+")
# One character of those scripts as it is written: a Thai, Lao, Myanmar or Khmer letter keeps
# its vowel signs and tone marks, and a Myanmar or Khmer consonant the one stacked under it
# (after a virama or coeng). Diffs compare them one by one, and search indexes them so.
_MARKS = "".join(
    c for c in map(chr, range(0x0E00, 0x1800)) if unicodedata.category(c) in ("Mn", "Mc")
)
UNSPACED_CHAR = rf"[{UNSPACED}](?:[\u1039\u17d2][{SYLLABIC}]|[{_MARKS}])*"

TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ref|ref_src|smid|smtyp|partner|emc"
    r"|cmpid|icid|ito|ocid|_ga|_gl|igshid|s_cid|mtrref)$",
    re.IGNORECASE,
)


def canonical_url(url: str, *, keep_query: bool = True) -> str:
    """https, lower-case host without default port, no fragment, no tracking parameters.

    keep_query=False drops the whole query, for outlets whose article URLs never need one.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = ""
    if keep_query and parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode(sorted((k, v) for k, v in pairs if not TRACKING_PARAMS.match(k)))
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    return urlunsplit(("https", host, path, query, ""))


# Searched for first: str.translate with a table costs more than a search that finds nothing.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Runs of spaces to one space; a lone space (most of them) is not matched, so not rewritten.
_SPACES = re.compile(
    r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
)


def normalise(text: str) -> str:
    """The strict form that decides whether a version is new: Unicode NFKC, no invisible
    characters, whitespace collapsed. Quotes and punctuation are kept (those edits are
    labelled trivial, not hidden)."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    if "\n" not in text:  # most paragraphs are one line
        return text.strip()
    return "\n".join(line for line in map(str.strip, text.split("\n")) if line)


def normalise_list(items: Iterable[str]) -> list[str]:
    """Normalise each entry and drop the ones that end up empty."""
    return [n for n in (normalise(i) for i in items) if n]


_PUNCT = re.compile(r"[^\w\s]+")  # quote marks of every style included
# A dateline a page rewrites as it is updated ("Updated 5:43 p.m. ET", "Stand: 28.04.2020 18:00
# Uhr", "Mis à jour le 3 mars 2021 à 14h05"): a short line led by a word for updated or
# published, in the languages of most news sites, with a time, a year or "ago" soon after.
_TIMESTAMP_LINE = re.compile(
    r"^(?:(?:last |first )?(?:updated|published|posted|modified|edited)\b"
    r"|stand\s*:|(?:zuletzt )?aktualisiert\b|veröffentlicht\b|letzte änderung\b"
    r"|mise? à jour\b|publié\b|modifié\b|actualisé\b"
    r"|actualizado\b|última actualización\b|publicado\b|atualizado\b"
    r"|aggiornato\b|ultimo aggiornamento\b|pubblicato\b|(?:laatst )?bijgewerkt\b|gepubliceerd\b)"
    r".{0,60}?(?:\d{1,2}[:h.]\d{2}|\d{4}|\d\s?[ap]m\b|[ap]\.m\."
    r"|\bago\b|\bvor \d|il y a|hace \d)",
    re.IGNORECASE,
)
# A time the page gives relative to now, alone on its line ("5 minutes ago", "vor 2 Stunden",
# "il y a 3 h"): a live blog's entry stamp, a comment's age. It is different at every fetch.
_RELATIVE_TIME_LINE = re.compile(
    r"(?:(?:about|around|etwa|ca\.)\s+)?(?:\d+|an?|one)\s*"
    r"(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s+ago"
    r"|just now|vor\s+(?:\d+|einer?|einem)\s*"
    r"(?:sek\.?|sekunden?|min\.?|minuten?|std\.?|stunden?|tag(?:en)?|wochen?)"
    r"|il y a\s+\d+\s*(?:s|sec(?:ondes?)?|min(?:utes?)?|h|heures?|jours?)"
    r"|hace\s+\d+\s*(?:s|seg(?:undos?)?|min(?:utos?)?|h|horas?|d[ií]as?)"
    r"|h[áa]\s+\d+\s*(?:min(?:utos?)?|h|horas?|dias?)"
    r"|\d+\s*(?:min(?:uti)?|ore|giorni)\s+fa|\d+\s*(?:min(?:uten)?|uur|dagen)\s+geleden",
    re.IGNORECASE,
)
_TIMESTAMP_MAX = 120  # characters: a longer line is a paragraph that happens to start so


def fingerprint(text: str) -> str:
    """A loose form, blind to punctuation, quote style, case and timestamp lines: two texts
    with equal fingerprints but different normal forms differ only trivially."""
    return _loose(normalise(text))


def _loose(normal: str) -> str:
    """fingerprint() of text already in normal form."""
    lines = [ln for ln in normal.split("\n") if not timestamp_line(ln)]
    loose = _PUNCT.sub(" ", "\n".join(lines)).casefold()
    return " ".join(loose.split())


def timestamp_line(line: str) -> bool:
    """A dateline a page rewrites as it is updated ("Updated 5:43 p.m. ET", "Stand: ... Uhr"),
    or a time relative to now alone on its line ("5 minutes ago")."""
    if len(line) > _TIMESTAMP_MAX:
        return False
    return bool(_TIMESTAMP_LINE.match(line) or _RELATIVE_TIME_LINE.fullmatch(line.rstrip(".")))


def _digest(value: object) -> str:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_EMPTY = _digest("")  # field_hashes() of an empty field
_EMPTY_LOOSE = _digest([])  # loose_hashes() of an empty field


def field_hashes(fields: Mapping[str, object]) -> dict[str, str]:
    """Hash of each normalised field (strings or lists of strings), stable across processes."""
    return {name: _digest(fields.get(name) or "") for name in HASHED_FIELDS}


def loose_hashes(fields: Mapping[str, object]) -> dict[str, str]:
    """Hashes of the fingerprints of normalised fields (as field_hashes gets them), used to tell
    a trivial edit from a real one."""
    out = {}
    for name in HASHED_FIELDS:
        value = fields.get(name) or ""
        items = value if isinstance(value, list) else [value]
        out[name] = _digest([f for f in map(_loose, items) if f])
    return out


def normalised(fields: Mapping[str, object]) -> dict[str, object]:
    """The text fields of an extracted article in normal form (title, section, summary, byline,
    body, corrections); the title must be there."""
    section = fields.get("section")
    summary = fields.get("summary")
    out: dict[str, object] = {"title": normalise(fields["title"])}
    out["section"] = normalise(section) if section else None
    out["summary"] = normalise(summary) if summary else None
    for name in ("byline", "body", "corrections"):
        out[name] = normalise_list(fields.get(name) or [])
    return out


def prepare(fields: Mapping[str, object]) -> dict[str, object]:
    """An extraction as the store pipeline compares it: fields normalised, with their strict and
    loose hashes. The extraction workers do this off the crawl's thread; the Normalise and Hash
    pipelines do it for fetches that come without (an extraction without title or body is
    left as it is: it is not a version)."""
    out = dict(fields)
    if not (out.get("title") and out.get("body")):
        return out
    out.update(normalised(out))
    out["hashes"] = field_hashes(out)
    out["loose_hashes"] = loose_hashes(out)
    return out


def combined_hash(hashes: Mapping[str, str]) -> str:
    """One hash for the whole version, used to spot flip-flops."""
    return _digest(
        [
            digest
            for name in HASHED_FIELDS
            if (digest := hashes.get(name, _EMPTY)) != _EMPTY or name not in LATER_FIELDS
        ]
    )


def changed_fields(old: Mapping[str, str] | None, new: Mapping[str, str]) -> list[str]:
    if not old:
        return list(HASHED_FIELDS)
    return [name for name in HASHED_FIELDS if old.get(name, _EMPTY) != new.get(name, _EMPTY)]


def label(
    *,
    previous: Mapping[str, str] | None,
    previous_loose: Mapping[str, str] | None,
    new: Mapping[str, str],
    new_loose: Mapping[str, str],
    earlier_combined: Iterable[str] = (),
) -> str | None:
    """The label of a candidate version, or None when nothing changed.

    first: no earlier version; flip-flop: back to the content of an earlier version;
    trivial: only punctuation, quote style, case or a timestamp line changed; change: the rest.
    """
    if previous is None:
        return "first"
    if not changed_fields(previous, new):
        return None
    if combined_hash(new) in set(earlier_combined):
        return "flip-flop"
    if previous_loose is not None and all(
        previous_loose.get(name, _EMPTY_LOOSE) == new_loose.get(name, _EMPTY_LOOSE)
        for name in HASHED_FIELDS
    ):
        return "trivial"
    return "change"


def word_count(text: str) -> int:
    """How many words a text has, in any script: space-separated runs, each Han or kana
    character, and each four code points of Thai, Lao, Myanmar or Khmer (see IDEOGRAPHIC)."""
    return len(_WORDS.findall(text))
