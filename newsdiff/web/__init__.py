"""The viewer: server-rendered pages, Atom feeds of changes and a read-only JSON API.

`create_app(store)` builds the Starlette app; `scrapy serve` runs it with uvicorn.
"""

from newsdiff.web.app import create_app

__all__ = ["create_app"]
