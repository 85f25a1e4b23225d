"""A local spool for fetches that could not be stored because MongoDB was unreachable.

One JSON file per fetch (raw HTML base64-encoded), written atomically and named by fetch time,
so replaying in name order replays in fetch order. Nothing here knows about MongoDB.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from newsdiff.items import Article


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
        return sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []

    def items(self) -> Iterator[tuple[Path, Article]]:
        """(file, Article) in fetch order; delete the file once the article is stored."""
        for path in self.pending():
            fields = json.loads(path.read_text())
            if fields.get("html") is not None:
                fields["html"] = base64.b64decode(fields["html"])
            yield path, Article(**fields)
