"""The diff picture: a PNG card of one change, for posts and the viewer's .png route.

Headline before and after, else the changed paragraphs with deletions struck through and insertions
underlined, the outlet and the times. 1200 px wide (Mastodon and Bluesky show it at ~600 px, where
the 32 px body text is still 16 px), a palette PNG well under Bluesky's 1 MB upload limit. The font
is Pillow's built-in scalable one, so a fresh machine renders English the same with no font files;
it has letters for Latin scripts only, and other letters (Greek, Cyrillic, Hebrew, Arabic, Chinese,
Thai...) are drawn in the machine's font that fontconfig finds for them, where there is one, and
shaped by Pillow's Raqm layout (Arabic letters joined). A paragraph in a right-to-left script
reads from the right edge.
"""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont, features

from newsdiff.diff import BELOW_HEADLINE, FieldDiff, Row, Segment, diff_versions
from newsdiff.text import UNSPACED, UNSPACED_CHAR

WIDTH = 1200
MARGIN = 56
MAX_HEIGHT = 1500  # taller cards are cropped to a portrait thumbnail by both services
MAX_BLOCK_LINES = 9
MAX_BLOCKS = 3
CONTEXT_WORDS = 14  # unchanged words kept on each side of a change in a long paragraph

INK, GREY, PAPER = (26, 26, 26), (100, 100, 100), (255, 255, 255)
STYLE = {  # op -> (text colour, background)
    "equal": (INK, None),
    "delete": ((150, 20, 20), (253, 226, 225)),
    "insert": ((20, 90, 30), (214, 244, 218)),
}
# What a line may break between: words, and the characters of scripts without spaces.
_PIECES = re.compile(rf"\s+|{UNSPACED_CHAR}|[^\s{UNSPACED}]+")


def font(size: int, text: str = "") -> ImageFont.FreeTypeFont:
    """The font to draw `text` in: the built-in one, or where it has no letter for one of the
    text's characters, the machine's font that fontconfig finds for that character (the
    built-in one when there is none)."""
    if text and not text.isascii():
        missing = next((c for c in text if not _has(None, c)), None)
        if missing is not None and (path := font_file(missing)):
            return _font(size, path)
    return _font(size, None)


@cache
def _font(size: int, path: str | None) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


@cache
def _has(path: str | None, char: str) -> bool:
    """Whether the font draws the character as itself, not as its box for a missing letter."""
    return char.isspace() or _drawn(path, char) != _drawn(path, _NO_LETTER)


@cache
def _drawn(path: str | None, char: str) -> bytes:
    image = Image.new("L", (48, 48))
    ImageDraw.Draw(image).text((8, 4), char, font=_font(24, path), fill=255)
    return image.tobytes()


_NO_LETTER = "\U0010fffd"  # a private-use character: no font has a letter for it


def font_file(char: str) -> str | None:
    """The font file fontconfig ranks first for sans-serif text with the character that has a
    letter for it (Debian: DejaVu Sans for Greek, Cyrillic, Hebrew, Arabic; fonts-noto-cjk or
    fonts-droid-fallback for Chinese and Japanese; fonts-thai-tlwg for Thai), or None. One
    lookup per block of 128 code points while its font has the block's letters."""
    block = ord(char) >> 7
    path = _block_fonts.get(block)
    if path is None or not _has(path, char):
        path = _block_fonts[block] = _matched(char)
    return path


_block_fonts: dict[int, str | None] = {}


@cache
def _matched(char: str) -> str | None:
    pattern = f"sans-serif:style=Regular:charset={ord(char):x}"
    try:
        ranked = subprocess.run(
            ["fc-match", "-s", "-f", "%{file}\n", pattern],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):  # no fontconfig
        return None
    return next((path for path in ranked[:FONTS_TRIED] if _has(path, char)), None)


FONTS_TRIED = 5  # fontconfig's best few for a character; past them, it has none for it


def inline(row: Row) -> list[Segment]:
    """One paragraph's change as a single run: deletions, then insertions, where they happen."""
    # Both sides share the unchanged text; each change is anchored at an offset into it.
    anchors: dict[int, list[Segment]] = {}
    common: list[str] = []
    for side in (row.old, row.new):  # old first: a deletion reads before its replacement
        offset = 0
        for seg in side:
            if seg.op == "equal":
                if side is row.old:
                    common.append(seg.text)
                offset += len(seg.text)
            else:
                anchors.setdefault(offset, []).append(seg)
    text, out, last = "".join(common), [], 0
    for offset in sorted(anchors):
        if offset > last:
            out.append(Segment("equal", text[last:offset]))
        out.extend(anchors[offset])
        last = offset
    if last < len(text):
        out.append(Segment("equal", text[last:]))
    return out


def _trim(segments: list[Segment]) -> list[Segment]:
    """Long unchanged stretches shortened to the words around the changes."""
    out = []
    for k, seg in enumerate(segments):
        words = seg.text.split(" ")
        if seg.op != "equal" or len(words) <= 2 * CONTEXT_WORDS + 2:
            out.append(seg)
            continue
        head = " ".join(words[:CONTEXT_WORDS])
        tail = " ".join(words[-CONTEXT_WORDS:])
        if k == 0:
            text = "… " + tail
        elif k == len(segments) - 1:
            text = head + " …"
        else:
            text = f"{head} … {tail}"
        out.append(Segment("equal", text))
    return out


def _wrap(segments: list[Segment], size: int, width: int) -> list[list[tuple[int, str, str]]]:
    """Lines of (x, text, op) pieces filling `width` pixels."""
    lines: list[list[tuple[int, str, str]]] = [[]]
    x = 0
    for seg in segments:
        for piece in _PIECES.findall(seg.text):
            if piece.isspace():
                piece = " "
                if x == 0:
                    continue
            w = int(font(size, piece).getlength(piece))
            if lines[-1] and lines[-1][-1][2] == "delete" and seg.op == "insert":
                x += int(font(size).getlength(" "))  # a struck word and its replacement apart
            if x + w > width and x > 0 and not piece.isspace():
                lines.append([])
                x = 0
            lines[-1].append((x, piece, seg.op))
            x += w
    return [line for line in lines if line]


def _right_to_left(text: str) -> bool:
    """A paragraph in Hebrew, Arabic, Persian...: its first letter with a direction is one."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _visual(line: list[tuple[int, str, str]], size: int, width: int) -> list[tuple[int, str, str]]:
    """A line of a right-to-left paragraph as it reads: its pieces from the right edge, in
    reverse order but for runs of left-to-right words and numbers among them, which keep
    theirs (a name in Latin letters, "3.5%"). The gap _wrap left before a piece stays on the
    side of the piece that comes before it."""
    widths = [int(font(size, piece).getlength(piece)) for _, piece, _ in line]
    starts = [x for x, _, _ in line]
    gaps = [0] + [starts[k] - starts[k - 1] - widths[k - 1] for k in range(1, len(line))]
    kinds = [_direction(piece) for _, piece, _ in line]
    for k, kind in enumerate(kinds):  # a space or sign between two such words is theirs
        if kind is None:
            before = next((d for d in reversed(kinds[:k]) if d is not None), "R")
            after = next((d for d in kinds[k + 1 :] if d is not None), "R")
            kinds[k] = "L" if before == after == "L" else "R"
    runs: list[list[int]] = []
    for k, kind in enumerate(kinds):
        if runs and kinds[runs[-1][0]] == kind == "L":
            runs[-1].append(k)
        else:
            runs.append([k])
    x = width - sum(widths) - sum(gaps)
    out = []
    for k in (k for run in reversed(runs) for k in run):
        x += gaps[k] if kinds[k] == "L" else 0
        out.append((x, line[k][1], line[k][2]))
        x += widths[k] + (gaps[k] if kinds[k] == "R" else 0)
    return out


def _direction(piece: str) -> str | None:
    """ "R" for a word in a right-to-left script, "L" for one in another or a number, None for
    spaces and signs."""
    kinds = {unicodedata.bidirectional(c) for c in piece}
    if kinds & {"R", "AL"}:
        return "R"
    return "L" if kinds & {"L", "EN", "AN"} else None


def _as_drawn(piece: str) -> str:
    """A piece as Pillow is given it: a right-to-left word reversed where Pillow lays text out
    without Raqm (libraqm loads libfribidi, a system library), which would draw its letters in
    the order they are stored, left to right."""
    if _direction(piece) == "R" and not features.check("raqm"):
        return piece[::-1]
    return piece


class _Canvas:
    """Collects what to draw, so the picture's height is known before it is made."""

    def __init__(self) -> None:
        self.y = MARGIN
        self.ops: list[tuple[str, int, int, str, str, int]] = []

    def text(self, text: str, size: int, colour: str = "grey") -> None:
        self.ops.append(("text", MARGIN, self.y, text, colour, size))
        self.y += int(size * 1.4)

    def block(self, segments: list[Segment], size: int) -> None:
        lines = _wrap(_trim(segments), size, WIDTH - 2 * MARGIN)
        if _right_to_left("".join(seg.text for seg in segments)):
            lines = [_visual(line, size, WIDTH - 2 * MARGIN) for line in lines]
        if len(lines) > MAX_BLOCK_LINES:
            lines = lines[:MAX_BLOCK_LINES]
            x, last, _ = lines[-1][-1]
            lines[-1].append((x + int(font(size, last).getlength(last)), " …", "equal"))
        for line in lines:
            for x, piece, op in line:
                self.ops.append(("piece", MARGIN + x, self.y, piece, op, size))
            self.y += int(size * 1.45)
        self.y += size // 2

    def gap(self, pixels: int) -> None:
        self.y += pixels

    def render(self) -> bytes:
        height = min(self.y + MARGIN, MAX_HEIGHT)
        image = Image.new("RGB", (WIDTH, height), PAPER)
        draw = ImageDraw.Draw(image)
        for kind, x, y, text, style, size in self.ops:
            if y + size > height - MARGIN // 2:
                continue  # cut at the maximum height
            f = font(size, text)
            if kind == "text":
                draw.text((x, y), text, font=f, fill=GREY if style == "grey" else INK)
                continue
            colour, background = STYLE[style]
            w = f.getlength(text)
            if background:
                draw.rectangle((x, y - 2, x + w, y + size * 1.25), fill=background)
            draw.text((x, y), _as_drawn(text), font=f, fill=colour)
            if style == "delete" and not text.isspace():  # struck through
                mid = y + size * 0.62
                draw.line((x, mid, x + w, mid), fill=colour, width=max(2, size // 14))
            elif style == "insert" and not text.isspace():  # underlined
                low = y + size * 1.18
                draw.line((x, low, x + w, low), fill=colour, width=max(2, size // 16))
        out = io.BytesIO()
        # A few colours: a palette PNG is a tenth of the RGB one.
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
        return out.getvalue()


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%-d %b %Y %H:%M UTC")
    return str(value or "?")


def _changed_rows(field: FieldDiff) -> list[Row]:
    return [r for r in field.rows if r.kind != "equal"]


def render_card(
    article: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]
) -> bytes:
    """The PNG card of the change from version `old` to version `new` of `article`."""
    d = diff_versions(old, new)
    c = _Canvas()
    host = urlsplit(str(article.get("url") or new.get("url") or "")).hostname or ""
    c.text(f"{article.get('outlet') or new.get('outlet')} · {host}", 26)
    c.text(
        f"version {old.get('number')} ({_when(old.get('fetched_at'))}) to "
        f"version {new.get('number')} ({_when(new.get('fetched_at'))})",
        24,
    )
    c.gap(16)
    title = d.fields["title"]
    if title.changed:
        c.text("Headline before", 24)
        c.block([s for r in title.rows for s in r.old if s.text], 40)
        c.text("Headline after", 24)
        c.block([s for r in title.rows for s in r.new if s.text], 40)
    else:
        c.block([Segment("equal", str(new.get("title") or ""))], 40)
    blocks = 0
    for name in BELOW_HEADLINE:
        field = d.fields[name]
        for row in _changed_rows(field):
            if blocks == MAX_BLOCKS or c.y > MAX_HEIGHT - 420:  # room for the footer
                break
            where = row.new_index if row.new_index is not None else row.old_index
            what = {"changed": "changed", "inserted": "added", "deleted": "removed"}[row.kind]
            label = (
                f"{field.label}, paragraph {where + 1} {what}"
                if name == "body"
                else (f"{field.label} {what}")
            )
            c.text(label, 24)
            c.block(inline(row), 32)
            blocks += 1
    more = sum(len(_changed_rows(d.fields[n])) for n in BELOW_HEADLINE)
    if more > blocks:
        c.text(f"… and {more - blocks} more changed paragraphs", 24)
    c.text("struck through: removed · underlined: added · newsdiff", 22)
    return c.render()
