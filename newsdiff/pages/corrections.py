"""Corrections and editor's notes: marked-up boxes, labelled paragraphs and their wording."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import etree

from newsdiff.pages.text import leaf_blocks, node_text

_CORRECTION_RE = re.compile(
    r"^(corrections?\s*:|editors?[’']?s?[’']? note\s*:|an earlier version of this (article|story))",
    re.I,
)
_STARTS_LIKE_CORRECTION = " or ".join(
    f"starts-with(normalize-space(.), '{word}')"
    for word in ("Correction", "CORRECTION", "Editor", "An earlier")
)
_CORRECTION_TEXT_XPATH = etree.XPath(
    " | ".join(
        f"//{tag}/text()[{_STARTS_LIKE_CORRECTION}][ancestor::article or ancestor::main]"
        for tag in ("p", "strong", "b", "em", "i", "span", "h2", "h3", "h4")
    )
)
_BOX_TAGS = frozenset({"div", "section", "aside", "p"})
_LABEL_TAGS = frozenset({"strong", "b", "h2", "h3", "h4"})
_INLINE_TAGS = frozenset({"strong", "b", "em", "i", "span", "a", "small"})
_BOX_CLASS_RE = re.compile(r"(?<![a-z])correction(?![a-z])", re.I)
_OUTSIDE_ARTICLE = etree.XPath("boolean(ancestor::nav or ancestor::header or ancestor::footer)")
_LABEL_RE = re.compile(r"^(corrections?|editors?[’']?s?[’']? note)\s*:?$", re.I)


# Candidates only: _is_correction_box() checks the class word and the surroundings.
CORRECTION_BOXES = " | ".join(
    f"//{tag}[contains(@class, 'orrection') or contains(@data-testid, 'orrection')]"
    for tag in ("div", "section", "aside", "p")
)


def find_corrections(
    root: etree._Element,
    boxes: etree.XPath,
    patterns: Iterable[str],
    body: Callable[[], list[str]],
) -> list[str]:
    """Correction and editor's-note paragraphs: marked-up boxes (the boxes XPath), labelled
    paragraphs, and body paragraphs in the outlet's own wording (patterns)."""
    found: list[str] = []
    for box in boxes(root):
        if _is_correction_box(box):
            found.extend(_box_paragraphs(box))
    # One scan of short text nodes (not of scripts); their elements decide what they are.
    for text_node in _CORRECTION_TEXT_XPATH(root):
        el = text_node.getparent()
        el = el.getparent() if text_node.is_tail else el
        label = el if el.tag in _LABEL_TAGS else None
        while el.tag in _INLINE_TAGS and el.getparent() is not None:
            el = el.getparent()
        if el.tag == "p" and is_correction(text := node_text(el)):
            found.append(text)
        elif label is not None and _LABEL_RE.match(node_text(label)):
            found.extend(_box_paragraphs(label.getparent()))
    if patterns:
        compiled = [re.compile(p, re.I) for p in patterns]
        found.extend(p for p in body() if any(r.search(p) for r in compiled))
    return _dedupe(found)


def _is_correction_box(el: etree._Element) -> bool:
    if el.tag.startswith("nyt_correction"):
        return True
    marker = f"{el.get('class', '')} {el.get('data-testid', '')}"
    return el.tag in _BOX_TAGS and bool(_BOX_CLASS_RE.search(marker)) and not _OUTSIDE_ARTICLE(el)


def is_correction(text: str) -> bool:
    return bool(_CORRECTION_RE.match(text))


def _box_paragraphs(box: etree._Element) -> list[str]:
    """A correction box as paragraphs; a label outside them ("Correction:") leads the first."""
    paragraphs = [t for b in leaf_blocks(box) if (t := node_text(b))]
    if not paragraphs:
        text = node_text(box)
        return [text] if text else []
    whole = node_text(box)
    label = whole[: whole.find(paragraphs[0])].strip() if paragraphs[0] in whole else ""
    if label and _CORRECTION_RE.match(label):
        paragraphs[0] = f"{label} {paragraphs[0]}"
    return paragraphs


def _dedupe(texts: Iterable[str]) -> list[str]:
    """Drop repeats and entries contained in an earlier or later longer entry, keeping order."""
    unique = list(dict.fromkeys(texts))
    return [t for t in unique if not any(t != o and t in o for o in unique)]
