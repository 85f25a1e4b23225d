"""One sender per kind of target: deliver one change, return what the service calls it (a URL).

Every failure is a DeliveryError carrying the service's Retry-After (or rate-limit reset) when it
sent one; newsdiff.publish.deliver decides when to try again. Idempotency: Mastodon gets the
entry's key as its Idempotency-Key; a Bluesky post is created under the entry's key as record key
(a retry first looks the record up); a webhook carries the entry id in X-Newsdiff-Delivery so a
receiver can drop a repeat; archiving a page twice is harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from newsdiff.publish import WAYBACK_ENDPOINT, Target
from newsdiff.publish.compose import Change

USER_AGENT = "newsdiff/0.1 (+https://github.com/newsdiff/newsdiff; publishes article changes)"
TIMEOUT = 30


class DeliveryError(Exception):
    """A delivery failed; retry_after: seconds the service asked us to wait, when it said."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def retry_after(headers: Mapping[str, str] | None, now: datetime | None = None) -> float | None:
    """Seconds from Retry-After (seconds or an HTTP date) or a rate-limit reset time."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    now = now or datetime.now(UTC)
    value = lower.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
            except (TypeError, ValueError):
                pass
    reset = lower.get("x-ratelimit-reset") or lower.get("ratelimit-reset")
    if reset:
        try:  # Mastodon: an ISO time; Bluesky: epoch seconds
            when = (
                datetime.fromtimestamp(float(reset), UTC)
                if reset.replace(".", "").isdigit()
                else datetime.fromisoformat(reset.replace("Z", "+00:00"))
            )
            return max(0.0, (when - now).total_seconds())
        except ValueError:
            return None
    return None


def _check(response: requests.Response, what: str) -> requests.Response:
    if not response.ok:
        raise DeliveryError(
            f"{what} answered HTTP {response.status_code}", retry_after(response.headers)
        )
    return response


def _http(call: Callable[[], requests.Response], what: str) -> requests.Response:
    try:
        return _check(call(), what)
    except requests.RequestException as exc:
        raise DeliveryError(f"{what} unreachable: {type(exc).__name__}") from None


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise DeliveryError(f"{what} answered something other than a JSON object")
    return answer


_tid_lock = threading.Lock()
_tid_last = 0  # microseconds of the last TID made here: each next one is later


def tid(now: datetime) -> str:
    """An AT Protocol record key (TID): microseconds since the epoch and a random clock id. The
    key is each entry's idempotency key too, so no two made in this process share their time:
    entries claimed in the same microsecond (or under a clock that stands still) would otherwise
    collide one time in 1024, and the second post be taken for a repeat of the first."""
    global _tid_last
    with _tid_lock:
        micros = _tid_last = max(int(now.timestamp() * 1_000_000), _tid_last + 1)
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    value = (micros << 10) | secrets.randbelow(1024)
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(13)))


class Context:
    """What senders may use besides the change: the outbox entry's progress, a clock, and the
    run's logged-in clients (Bluesky allows 30 logins in 5 minutes: one per run, not per post)."""

    def __init__(
        self,
        remember: Callable[..., None],
        archive: Callable[[Any, str], None],
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.remember = remember
        self.archive = archive
        self.sleep = sleep
        self.clients: dict[str, Any] = {}


def send_webhook(
    target: Target, entry: Mapping, change: Change, picture: Path | None, ctx: Context
) -> str | None:
    body = json.dumps(change.webhook_document(entry["_id"]), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Newsdiff-Delivery": entry["_id"],
    }
    secret = target.secret()
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Newsdiff-Signature"] = f"sha256={digest}"
    url = target.url()
    _http(lambda: requests.post(url, data=body, headers=headers, timeout=TIMEOUT), "webhook")
    return None


def send_mastodon(
    target: Target, entry: Mapping, change: Change, picture: Path | None, ctx: Context
) -> str | None:
    from mastodon import Mastodon, MastodonError

    session = requests.Session()
    seen: dict[str, Any] = {}
    # Mastodon.py raises on 429 without the response: keep its headers for Retry-After.
    session.hooks["response"].append(lambda r, *a, **k: seen.update(headers=r.headers))
    api = Mastodon(
        access_token=target.secret(),
        api_base_url=target.options["instance"],
        ratelimit_method="throw",  # we wait between runs, not inside one
        # The oldest server we support, so media goes to /api/v2/media without asking first.
        version_check_mode="created",
        mastodon_version="4.0.0",
        session=session,
        request_timeout=TIMEOUT,
        user_agent=USER_AGENT,
    )
    try:
        media = api.media_post(
            str(picture), mime_type="image/png", description=change.alt_text(), synchronous=True
        )
        status = api.status_post(
            change.mastodon_status(),
            media_ids=[media],
            visibility=target.options.get("visibility", "public"),
            language=target.options.get("language"),
            idempotency_key=entry["key"],
        )
    except MastodonError as exc:
        code = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        what = f"HTTP {code}" if code else type(exc).__name__
        raise DeliveryError(f"mastodon: {what}", retry_after(seen.get("headers"))) from None
    return status.get("url") or status.get("uri")


def send_bluesky(
    target: Target, entry: Mapping, change: Change, picture: Path | None, ctx: Context
) -> str | None:
    from atproto import Client, client_utils, models
    from atproto.exceptions import AtProtocolError, RequestErrorBase

    collection = "app.bsky.feed.post"
    try:
        if target.name not in ctx.clients:
            client = Client(base_url=target.options["service"])
            profile = client.login(target.options["handle"], target.secret())
            ctx.clients[target.name] = client, profile.did
        client, did = ctx.clients[target.name]
        if entry["attempts"] > 1:  # a run may have posted it and crashed before recording it
            try:
                found = client.com.atproto.repo.get_record(
                    {"repo": did, "collection": collection, "rkey": entry["key"]}
                )
                return found.uri
            except RequestErrorBase as exc:
                if exc.response is None or exc.response.status_code not in (400, 404):
                    raise
        text, links = change.bluesky_text()
        builder = client_utils.TextBuilder().text(text + "\n")
        for i, (label, url) in enumerate(links):
            builder = builder.text(" · " if i else "").link(label, url)
        data = picture.read_bytes()
        blob = client.upload_blob(data).blob
        with Image.open(picture) as image:
            ratio = models.AppBskyEmbedDefs.AspectRatio(width=image.width, height=image.height)
        embed = models.AppBskyEmbedImages.Main(
            images=[
                models.AppBskyEmbedImages.Image(
                    alt=change.alt_text(), image=blob, aspect_ratio=ratio
                )
            ]
        )
        record = models.AppBskyFeedPost.Record(
            created_at=client.get_current_time_iso(),
            text=builder.build_text(),
            facets=builder.build_facets(),
            embed=embed,
            langs=[target.options.get("language") or "en"],
        )
        created = client.app.bsky.feed.post.create(did, record, rkey=entry["key"])
    except RequestErrorBase as exc:
        if exc.response is not None and exc.response.status_code in (401, 403):
            ctx.clients.pop(target.name, None)  # log in afresh next time
        response = exc.response
        what = f"HTTP {response.status_code}" if response is not None else type(exc).__name__
        headers = response.headers if response is not None else None
        raise DeliveryError(f"bluesky: {what}", retry_after(headers)) from None
    except AtProtocolError as exc:
        raise DeliveryError(f"bluesky: {type(exc).__name__}") from None
    return created.uri


def send_wayback(
    target: Target, entry: Mapping, change: Change, picture: Path | None, ctx: Context
) -> str | None:
    endpoint = str(target.options.get("endpoint") or WAYBACK_ENDPOINT).rstrip("/")
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    key = target.secret()
    if key:  # "accesskey:secret" from archive.org's S3 keys page
        headers["Authorization"] = f"LOW {key}"
    job = entry.get("job_id")
    if not job:
        response = _http(
            lambda: requests.post(
                f"{endpoint}/save",
                data={"url": change.article_url},
                headers=headers,
                timeout=TIMEOUT,
            ),
            "Save Page Now",
        )
        answer = _json(response, "Save Page Now")
        job = answer.get("job_id")
        if not job:
            raise DeliveryError(f"Save Page Now: {answer.get('message') or 'no job id'}")
        ctx.remember(entry["_id"], job_id=job)
    polls = int(target.options.get("polls") or 10)
    for i in range(polls):
        status = _json(
            _http(
                lambda: requests.get(
                    f"{endpoint}/save/status/{job}", headers=headers, timeout=TIMEOUT
                ),
                "Save Page Now status",
            ),
            "Save Page Now status",
        )
        if status.get("status") == "success":
            archived = f"{endpoint}/web/{status['timestamp']}/{status['original_url']}"
            ctx.archive(entry["version_id"], archived)
            return archived
        if status.get("status") == "error":
            ctx.remember(entry["_id"], job_id=None)  # the next attempt asks again
            raise DeliveryError(f"Save Page Now: {status.get('message') or 'job failed'}")
        if i < polls - 1:
            ctx.sleep(float(target.options.get("poll_seconds") or 3))
    raise DeliveryError("Save Page Now: job still pending", retry_after=60)


SENDERS = {
    "webhook": send_webhook,
    "mastodon": send_mastodon,
    "bluesky": send_bluesky,
    "wayback": send_wayback,
}
PICTURES = {"mastodon", "bluesky"}  # kinds that upload the card
