"""The diff picture: a PNG card of one change, for posts and the viewer's .png route.

Headline before and after, else the changed paragraphs with deletions struck through and insertions
underlined, the outlet and the times. 1200 px wide (Mastodon and Bluesky show it at ~600 px, where
the 32 px body text is still 16 px), a palette PNG well under Bluesky's 1 MB upload limit. The font
is Pillow's built-in scalable one, so a fresh machine renders the same picture with no font files;
it has no Chinese, Japanese, Korean, Thai, Lao, Myanmar or Khmer letters, which are drawn in a font
of the machine's that fontconfig says writes the language (Debian: fonts-noto-cjk or
fonts-droid-fallback, fonts-thai-tlwg), where there is one.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont

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


# Scripts the built-in font has no letters for, and a language written in each (fontconfig's).
_SCRIPTS = (
    (re.compile("[\u3040-\u30ff\u31f0-\u31ff]"), "ja"),  # kana first: Japanese, not Chinese
    (re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]"), "ko"),
    (re.compile("[\u2e80-\u2fdf\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"), "zh"),
    (re.compile("[\u0e00-\u0e7f]"), "th"),
    (re.compile("[\u0e80-\u0eff]"), "lo"),
    (re.compile("[\u1000-\u109f]"), "my"),
    (re.compile("[\u1780-\u17ff]"), "km"),
)


def font(size: int, text: str = "") -> ImageFont.FreeTypeFont:
    """The font to draw `text` in: the built-in one, or for a script it has no letters for, a
    font of the machine's that writes it (the built-in one when there is none)."""
    if text and not text.isascii():
        for script, language in _SCRIPTS:
            if script.search(text) and (path := font_file(language)):
                return _font(size, path)
    return _font(size, None)


@cache
def _font(size: int, path: str | None) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


@cache
def font_file(language: str) -> str | None:
    """A regular font file that fontconfig lists for the language (the first by name, so every
    picture on a machine is drawn alike), or None (no such font, or no fontconfig)."""
    for pattern in (f":lang={language}:style=Regular", f":lang={language}"):
        try:
            listed = subprocess.run(
                ["fc-list", pattern, "file"], capture_output=True, text=True, timeout=10
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        files = sorted(line.split(":")[0].strip() for line in listed.splitlines() if line.strip())
        if files:
            return files[0]
    return None


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
            draw.text((x, y), text, font=f, fill=colour)
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
