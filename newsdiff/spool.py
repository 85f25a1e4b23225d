"""A local spool for fetches that could not be stored because the database could not take them.

One JSON file per fetch (raw HTML base64-encoded), written atomically and named by fetch time,
so replaying in name order replays in fetch order. Several crawls may share one spool: a replay
claims each file by renaming it into a directory of its own process (an atomic step, so a file is
replayed by one crawl only); a claim whose process died goes back to the spool. Nothing here
knows about MongoDB.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from newsdiff.items import Article
from newsdiff.processes import alive

logger = logging.getLogger(__name__)

CLAIMS = ".claimed"  # CLAIMS/<pid>/<file>: files a replaying process holds


class Spool:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def add(self, fields: dict[str, Any]) -> Path:
        fields = {k: v for k, v in fields.items() if k != "known"}  # re-read on replay
        if fields.get("html") is not None:
            fields["html"] = base64.b64encode(fields["html"]).decode()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = fields["fetched_at"].replace(":", "").replace("+", "Z")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(fields, ensure_ascii=False))
        os.replace(tmp, path)  # a crash never leaves half a file under a .json name
        return path

    def pending(self) -> list[Path]:
        """Files waiting to be written, oldest fetch first (not those another replay holds)."""
        return sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []

    def waiting(self) -> int:
        """All fetches waiting on disk, including those a running replay holds."""
        held = self.directory / CLAIMS
        return len(self.pending()) + (len(list(held.glob("*/*.json"))) if held.is_dir() else 0)

    def _return_dead_claims(self) -> None:
        """Put back the files of replays whose process died before writing them."""
        held = self.directory / CLAIMS
        if not held.is_dir():
            return
        for claims in held.iterdir():
            if claims.name.isdigit() and alive(int(claims.name)):
                continue
            for path in claims.glob("*.json"):
                with contextlib.suppress(FileNotFoundError):  # another replay put it back
                    os.replace(path, self.directory / path.name)
            with contextlib.suppress(OSError):
                claims.rmdir()

    def items(self) -> Iterator[tuple[Path, Article]]:
        """(claimed file, Article) in fetch order. Delete the file once the article is stored,
        or give it back with release()."""
        self._return_dead_claims()
        pending = self.pending()
        claims = self.directory / CLAIMS / str(os.getpid())
        if pending:
            claims.mkdir(parents=True, exist_ok=True)
        for path in pending:
            claimed = claims / path.name
            try:
                os.replace(path, claimed)  # atomic: of two replays, one gets each file
            except FileNotFoundError:
                continue  # another crawl's replay took it first
            try:
                fields = json.loads(claimed.read_text())
                if fields.get("html") is not None:
                    fields["html"] = base64.b64decode(fields["html"])
                article = Article(**fields)
            except (ValueError, TypeError) as exc:  # not add()'s: keep it aside for a person
                bad = self.directory / (path.name + ".bad")
                os.replace(claimed, bad)
                logger.error("Spooled fetch %s cannot be read (%s); moved to %s", path, exc, bad)
                continue
            yield claimed, article

    def release(self, claimed: Path) -> None:
        """Give a claimed file back to the spool (it could not be written now)."""
        os.replace(claimed, self.directory / claimed.name)
