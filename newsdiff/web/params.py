"""Query and path parameters, checked before anything reaches the store.

Every value comes out as a plain str, int or bool of a bounded size, so nothing a client sends
can become a MongoDB operator (`?outlet[$ne]=x` is an unknown parameter; `{"$gt": ""}` is just a
string). A bad value raises BadRequest with a message saying what a good one looks like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request

from newsdiff.store.queries import MAX_VERSION

OUTLET = re.compile(r"[a-z0-9_][a-z0-9_-]{0,63}")
ARTICLE_ID = re.compile(r"[0-9a-f]{24}")


class BadRequest(HTTPException):
    def __init__(self, message: str, status_code: int = 400):
        super().__init__(status_code=status_code, detail=message)


class Params:
    """The query string of one request. strict: unknown parameters are an error (the API);
    otherwise they are ignored (pages, which may carry tracking parameters from shared links)."""

    def __init__(self, request: Request, known: Iterable[str], *, strict: bool):
        self.known = set(known)
        self.strict = strict
        self.values: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if key not in self.known:
                if strict:
                    allowed = ", ".join(sorted(self.known)) or "none"
                    raise BadRequest(f"unknown parameter {key!r}; this endpoint takes: {allowed}")
                continue
            if key in self.values:
                raise BadRequest(f"parameter {key!r} is given more than once")
            self.values[key] = value

    def text(self, name: str, *, max_length: int = 200) -> str | None:
        raw = self.values.get(name, "")
        value = raw.strip()
        if len(raw if self.strict else value) > max_length:
            raise BadRequest(f"{name} is longer than {max_length} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in raw if self.strict or not c.isspace()):
            raise BadRequest(f"{name} contains control characters")
        return value or None

    def _exact(self, name: str) -> str:
        """The value as given; the API (strict) takes only what /openapi.json describes, while
        pages forgive blanks and spaces (a form's "All outlets" sends outlet=)."""
        value = self.values.get(name, "")
        if not self.strict:
            return value.strip()
        if name in self.values and (not value or value != value.strip()):
            raise BadRequest(f"{name} must not be empty or padded with spaces; leave it out")
        return value

    def cursor(self, name: str = "before") -> str | None:
        """A paging cursor (checked by the store's parse_cursor)."""
        if self.strict:
            return self._exact(name) or None
        return self.text(name, max_length=60)

    def outlet(self, name: str = "outlet") -> str | None:
        value = self._exact(name)
        if not value:
            return None
        return outlet_name(value, what=name)

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self._exact(name)
        if not value:
            return default
        if not re.fullmatch(r"\d{1,9}", value) or not low <= int(value) <= high:
            raise BadRequest(f"{name} must be a whole number from {low} to {high}")
        return int(value)

    def flag(self, name: str) -> bool:
        value = self._exact(name)
        if self.strict and value not in ("", "0", "1"):
            raise BadRequest(f"{name} must be 1 or 0")
        value = value.lower()
        if value in ("", "0", "false", "no"):
            return False
        if value in ("1", "true", "yes", "on"):
            return True
        raise BadRequest(f"{name} must be 1 or 0")

    def date(self, name: str) -> datetime | None:
        """A day, YYYY-MM-DD (UTC midnight)."""
        value = self._exact(name)
        if not value:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise BadRequest(f"{name} must be a day, YYYY-MM-DD") from None

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        """One of options; the first when absent."""
        value = self._exact(name)
        if not value:
            return options[0]
        if value not in options:
            raise BadRequest(f"{name} must be one of: {', '.join(options)}")
        return value

    def version(self, name: str) -> int | None:
        value = self.values.get(name, "").strip()
        return version_number(value, what=name) if value else None


def outlet_name(value: str, *, what: str = "outlet") -> str:
    if not OUTLET.fullmatch(value):
        raise BadRequest(
            f"{what} must be an outlet name: up to 64 lower-case letters, digits, _ or -"
        )
    return value


def article_id(value: str) -> str:
    if not ARTICLE_ID.fullmatch(value):
        raise BadRequest("an article id is 24 lower-case hexadecimal characters", 404)
    return value


def version_number(value: str, *, what: str = "version") -> int:
    if not re.fullmatch(r"\d{1,9}", value) or int(value) > MAX_VERSION:
        raise BadRequest(f"{what} must be a version number from 0 to {MAX_VERSION}")
    return int(value)
