"""Local stand-ins on 127.0.0.1 for the services newsdiff publishes to, speaking their real
endpoints: a webhook receiver, the Mastodon API calls Mastodon.py makes, the Bluesky XRPC calls the
atproto client makes, and the Wayback Machine's Save Page Now (SPN2)."""

from __future__ import annotations

import base64
import contextlib
import email.parser
import email.policy
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CID = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"  # a well-formed CIDv1
DID = "did:plc:newsdifftest0000000000"


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }


class FakeServices:
    """All four services on one port; `requests` records every call as (method, path, headers,
    body). `fail[path]` holds (status, headers[, JSON body]) answers to give before working
    normally; `down` answers 503 to everything; `kill_after_status` SIGKILLs that pid once a
    status is stored."""

    def __init__(self, *, token: str, password: str, spn_key: str, secret: str):
        self.token, self.password, self.spn_key, self.secret = token, password, spn_key, secret
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.fail: dict[str, list[tuple[int, dict]]] = {}
        self.down = False
        self.kill_after_status: int | None = None
        self.statuses: dict[str, dict] = {}  # Idempotency-Key (or id) -> status
        self.media: dict[str, dict] = {}
        self.records: dict[str, dict] = {}  # rkey -> record
        self.blobs: list[bytes] = []
        self.hooks: list[tuple[dict, bytes]] = []
        self.saves: list[str] = []
        self.spn_pending = 0  # status checks answered "pending" before "success"
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.handle(self, "GET")

            def do_POST(self):
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )  # shutdown() returns within 0.05 s instead of 0.5

    def __enter__(self) -> FakeServices:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, path: str) -> list[tuple[str, str, dict, bytes]]:
        return [r for r in self.requests if urlsplit(r[1]).path == path]

    # --- dispatch -------------------------------------------------------------------------

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in h.headers.items()}
        path = urlsplit(h.path).path.rstrip("/")  # Mastodon.py asks /api/v1/instance/
        with self.lock:
            self.requests.append((method, h.path, headers, body))
            planned = self.fail.get(path)
            failure = planned.pop(0) if planned else ((503, {}) if self.down else None)
        if failure:
            status, extra, *payload = failure
            return self.reply(h, status, payload[0] if payload else {"error": "unavailable"}, extra)
        query = {k: v[0] for k, v in parse_qs(urlsplit(h.path).query).items()}
        route = {
            "/hook": self.webhook,
            "/api/v1/instance": self.mastodon_instance,
            "/api/v2/instance": self.mastodon_instance,
            "/api/v2/media": self.mastodon_media,
            "/api/v1/statuses": self.mastodon_status,
            "/xrpc/com.atproto.server.createSession": self.bsky_session,
            "/xrpc/app.bsky.actor.getProfile": self.bsky_profile,
            "/xrpc/com.atproto.repo.uploadBlob": self.bsky_blob,
            "/xrpc/com.atproto.repo.createRecord": self.bsky_create,
            "/xrpc/com.atproto.repo.getRecord": self.bsky_get,
            "/save": self.spn_save,
        }.get(path)
        if route is None and path.startswith("/save/status/"):
            route = self.spn_status
        if route is None:
            return self.reply(h, 404, {"error": "not found"})
        status, payload = route(headers, body, query, path)
        self.reply(h, status, payload)

    def reply(self, h, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        # The publisher may have been killed on purpose before it read the answer.
        with contextlib.suppress(BrokenPipeError):
            h.wfile.write(data)

    # --- webhook --------------------------------------------------------------------------

    def webhook(self, headers, body, query, path):
        self.hooks.append((headers, body))
        return 200, {"ok": True}

    # --- Mastodon -------------------------------------------------------------------------

    def _mastodon_auth(self, headers) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}"

    def mastodon_instance(self, headers, body, query, path):
        return 200, {
            "uri": "127.0.0.1",
            "domain": "127.0.0.1",
            "title": "newsdiff test instance",
            "version": "4.3.2",
            "api_versions": {"mastodon": 2},
        }

    def mastodon_media(self, headers, body, query, path):
        if not self._mastodon_auth(headers):
            return 401, {"error": "The access token is invalid"}
        parts = _multipart(headers["content-type"], body)
        media_id = str(len(self.media) + 1)
        self.media[media_id] = {
            "description": parts.get("description", b"").decode(),
            "file": parts["file"],
        }
        return 200, {
            "id": media_id,
            "type": "image",
            "url": f"{self.url}/media/{media_id}.png",
            "preview_url": f"{self.url}/media/{media_id}-small.png",
            "description": self.media[media_id]["description"],
        }

    def mastodon_status(self, headers, body, query, path):
        if not self._mastodon_auth(headers):
            return 401, {"error": "The access token is invalid"}
        form = (
            json.loads(body)
            if headers.get("content-type", "").startswith("application/json")
            else {k: v[0] if len(v) == 1 else v for k, v in parse_qs(body.decode()).items()}
        )
        key = headers.get("idempotency-key") or f"no-key-{len(self.statuses)}"
        with self.lock:
            if key not in self.statuses:  # Mastodon answers a repeated key with the first status
                status_id = str(len(self.statuses) + 100)
                self.statuses[key] = {
                    "id": status_id,
                    "url": f"{self.url}/@news/{status_id}",
                    "uri": f"{self.url}/users/news/statuses/{status_id}",
                    "content": form.get("status"),
                    "media_ids": form.get("media_ids") or form.get("media_ids[]"),
                    "created_at": "2026-01-01T12:00:00.000Z",
                    "visibility": form.get("visibility") or "public",
                }
            status = self.statuses[key]
        if self.kill_after_status:  # the publisher dies after the post, before recording it
            pid, self.kill_after_status = self.kill_after_status, None
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        return 200, status

    # --- Bluesky --------------------------------------------------------------------------

    def _bsky_auth(self, headers) -> bool:
        return headers.get("authorization", "").startswith("Bearer ey")

    def bsky_session(self, headers, body, query, path):
        data = json.loads(body)
        if data.get("password") != self.password:
            return 401, {
                "error": "AuthenticationRequired",
                "message": "Invalid identifier or password",
            }
        exp = int(time.time()) + 7200
        return 200, {
            "did": DID,
            "handle": data["identifier"],
            "accessJwt": _jwt({"scope": "com.atproto.access", "sub": DID, "exp": exp}),
            "refreshJwt": _jwt({"scope": "com.atproto.refresh", "sub": DID, "exp": exp + 3600}),
        }

    def bsky_profile(self, headers, body, query, path):
        return 200, {"did": DID, "handle": query.get("actor")}

    def bsky_blob(self, headers, body, query, path):
        if not self._bsky_auth(headers):
            return 401, {"error": "AuthenticationRequired"}
        self.blobs.append(body)
        return 200, {
            "blob": {
                "$type": "blob",
                "ref": {"$link": CID},
                "mimeType": headers.get("content-type", "image/png"),
                "size": len(body),
            }
        }

    def bsky_create(self, headers, body, query, path):
        if not self._bsky_auth(headers):
            return 401, {"error": "AuthenticationRequired"}
        data = json.loads(body)
        rkey = data.get("rkey") or f"auto{len(self.records)}"
        with self.lock:
            if rkey in self.records:
                return 400, {"error": "InvalidRequest", "message": "Record already exists"}
            self.records[rkey] = data
        return 200, {"uri": f"at://{data['repo']}/{data['collection']}/{rkey}", "cid": CID}

    def bsky_get(self, headers, body, query, path):
        record = self.records.get(query.get("rkey"))
        if record is None:
            return 400, {"error": "RecordNotFound", "message": "Could not locate record"}
        uri = f"at://{query['repo']}/{query['collection']}/{query['rkey']}"
        return 200, {"uri": uri, "cid": CID, "value": record["record"]}

    # --- Save Page Now --------------------------------------------------------------------

    def spn_save(self, headers, body, query, path):
        if headers.get("authorization") != f"LOW {self.spn_key}":
            return 401, {"message": "You need to be logged in to use Save Page Now."}
        url = parse_qs(body.decode())["url"][0]
        self.saves.append(url)
        return 200, {"url": url, "job_id": f"spn2-{len(self.saves)}"}

    def spn_status(self, headers, body, query, path):
        job = path.rsplit("/", 1)[-1]
        if self.spn_pending:
            self.spn_pending -= 1
            return 200, {"status": "pending", "job_id": job, "resources": []}
        url = self.saves[int(job.split("-")[1]) - 1]
        return 200, {
            "status": "success",
            "job_id": job,
            "original_url": url,
            "timestamp": f"2026010112{len(self.saves):04d}",
        }
