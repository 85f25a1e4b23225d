"""Publishing changes: outbox entries written with versions, delivered by the real clients
(requests, Mastodon.py, atproto) to fakes of each service on 127.0.0.1, with simulated time."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageDraw
from scrapy import Spider
from scrapy.utils.test import get_crawler

from newsdiff.pipelines import Chain
from newsdiff.publish import PublishConfigError, parse_targets
from newsdiff.publish.deliver import Publisher
from newsdiff.store.outbox import Outbox
from tests.conftest import ROOT, article
from tests.publish_fakes import FakeServices

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
URL = "https://www.nytimes.com/2026/01/01/nyregion/council-budget.html"
BODY = [
    "The city council voted on Tuesday to approve the new budget after months of debate.",
    "“We finally have a plan,” the mayor said, adding that the vote was close.",
]
# Made up per run, so no literal secret sits in the repository.
TOKEN, PASSWORD, SPN_KEY, HOOK_KEY = (f"{w}-{uuid.uuid4().hex}" for w in "tpsh")
ENV = {
    "ND_TEST_MASTODON": TOKEN,
    "ND_TEST_BLUESKY": PASSWORD,
    "ND_TEST_SPN": SPN_KEY,
    "ND_TEST_HOOK": HOOK_KEY,
}


@pytest.fixture
def fake(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with FakeServices(token=TOKEN, password=PASSWORD, spn_key=SPN_KEY, secret=HOOK_KEY) as f:
        yield f


def targets_for(fake, **only) -> list[dict]:
    every = {
        "webhook": {"type": "webhook", "url": f"{fake.url}/hook", "secret_env": "ND_TEST_HOOK"},
        "mastodon": {"type": "mastodon", "instance": fake.url, "token_env": "ND_TEST_MASTODON"},
        "bluesky": {
            "type": "bluesky",
            "service": fake.url,
            "handle": "news.example.org",
            "password_env": "ND_TEST_BLUESKY",
        },
        "wayback": {"type": "wayback", "endpoint": fake.url, "key_env": "ND_TEST_SPN"},
    }
    return [{**every[name], **extra} for name, extra in only.items()]


@pytest.fixture
def ingest(crawl_settings):
    """ingest(targets)(minutes, **fields) stores one fetch through the real pipelines."""
    closers = []

    def make(targets: list[dict]):
        chain = Chain(get_crawler(Spider, crawl_settings(NEWSDIFF_PUBLISH=json.dumps(targets))))
        closers.append(chain.close)

        def run(minutes: float, **fields):
            fields = {"url": URL, "body": BODY, "extractor": "test", **fields}
            return chain(article(minutes, **fields))

        return run

    yield make
    for close in closers:
        close()


class Clock:
    def __init__(self, start: datetime = T0 + timedelta(hours=1)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def publisher(store, targets: list[dict], tmp_path, clock=None, **kwargs) -> Publisher:
    clock = clock or Clock()
    return Publisher(
        store,
        parse_targets(targets, max_tries=kwargs.pop("max_tries", 12)),
        viewer_url="https://diff.example.org",
        cards_dir=tmp_path / "cards",
        clock=clock,
        sleep=clock.sleep,
        **kwargs,
    )


def headline_change(ingest_run) -> None:
    ingest_run(0)
    ingest_run(30, title="Council Narrowly Approves Disputed Budget")


# --- which versions become entries ---------------------------------------------------------


def test_entries_are_written_with_the_version_and_honour_filters(fake, ingest, store, tmp_path):
    targets = targets_for(
        fake,
        webhook={},  # default labels: changes only
        mastodon={"outlets": ["guardian"]},
        bluesky={"fields": ["title"]},
        wayback={},  # every new version
    )
    run = ingest(targets)
    run(0)
    run(20, body=[BODY[0], BODY[1].replace("close", "very close")])
    run(40, body=[BODY[0], BODY[1].replace("close", "very close")], title="Council Passes Budget")
    carried = [v.get("outbox") for v in store.versions.find({}, sort=[("number", 1)])]
    assert carried == [["wayback"], ["webhook", "wayback"], ["webhook", "bluesky", "wayback"]]

    counts = publisher(store, targets, tmp_path).run()
    assert counts == {"sent": 6}
    assert not fake.statuses  # mastodon: only the Guardian
    assert len(fake.hooks) == 2 and len(fake.records) == 1 and len(fake.saves) == 3
    assert store.versions.count_documents({"outbox": {"$exists": True}}) == 0
    states = {e["_id"].rsplit(":", 1)[1]: e["state"] for e in Outbox(store).entries.find()}
    assert set(states.values()) == {"sent"}


def test_bad_targets_are_a_clear_error():
    with pytest.raises(PublishConfigError, match="type must be one of"):
        parse_targets('[{"type": "fax"}]')
    with pytest.raises(PublishConfigError, match="needs instance"):
        parse_targets([{"type": "mastodon", "token_env": "X"}])
    with pytest.raises(PublishConfigError, match="needs url or url_env"):
        parse_targets([{"type": "webhook"}])
    with pytest.raises(PublishConfigError, match="distinct name"):
        parse_targets([{"type": "wayback"}, {"type": "wayback"}])
    with pytest.raises(PublishConfigError, match=r"unknown fields \['dek', 'headline'\]"):
        parse_targets([{"type": "wayback", "fields": ["headline", "dek", "summary"]}])
    with pytest.raises(PublishConfigError, match="not JSON"):
        parse_targets("[{")


def test_a_target_can_take_headline_and_summary_edits_only():
    [target] = parse_targets([{"type": "wayback", "fields": ["title", "summary"]}])
    version = {"outlet": "nytimes", "label": "change"}
    assert target.wants(version | {"changed": ["summary"]})
    assert target.wants(version | {"changed": ["title", "body"]})
    assert not target.wants(version | {"changed": ["body", "byline"]})


# --- each service's exact requests ---------------------------------------------------------


def test_webhook_posts_a_signed_json_document(fake, ingest, store, tmp_path):
    targets = targets_for(fake, webhook={})
    headline_change(ingest(targets))
    assert publisher(store, targets, tmp_path).run() == {"sent": 1}
    [(headers, body)] = fake.hooks
    expected = hmac.new(HOOK_KEY.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-newsdiff-signature"] == f"sha256={expected}"
    doc = json.loads(body)
    article = store.articles.find_one()
    assert (
        headers["x-newsdiff-delivery"] == doc["delivery"] == Outbox(store).entries.find_one()["_id"]
    )
    assert doc["article"] == {"id": str(article["_id"]), "url": URL, "outlet": "nytimes"}
    assert (doc["from"], doc["to"], doc["label"], doc["changed"]) == (0, 1, "change", ["title"])
    assert doc["headline"] == {
        "old": "Council Approves Budget",
        "new": "Council Narrowly Approves Disputed Budget",
    }
    assert doc["summary"].startswith("Headline changed from “Council Approves Budget”")
    assert doc["diff_url"] == f"https://diff.example.org/articles/{article['_id']}/diff/0/1"
    assert doc["picture_url"] == doc["diff_url"] + ".png"


def test_mastodon_status_carries_the_picture_alt_text_and_links(fake, ingest, store, tmp_path):
    targets = targets_for(fake, mastodon={})
    run = ingest(targets)
    run(0)
    run(30, body=[BODY[0].replace("Tuesday", "Wednesday night"), BODY[1]])
    assert publisher(store, targets, tmp_path).run() == {"sent": 1}
    [media] = fake.media.values()
    image = Image.open(io.BytesIO(media["file"]))
    assert image.format == "PNG" and image.width == 1200 and len(media["file"]) < 1_000_000
    assert "removed: “Tuesday”" in media["description"]
    assert "added: “Wednesday night”" in media["description"]
    [(key, status)] = fake.statuses.items()
    article = store.articles.find_one()
    assert URL in status["content"]
    assert f"https://diff.example.org/articles/{article['_id']}/diff/0/1" in status["content"]
    assert status["media_ids"] == "1"
    entry = Outbox(store).entries.find_one()
    assert key == entry["key"] and entry["result"] == status["url"]


def test_bluesky_post_has_image_alt_text_and_link_facets(fake, ingest, store, tmp_path):
    targets = targets_for(fake, bluesky={})
    headline_change(ingest(targets))
    assert publisher(store, targets, tmp_path).run() == {"sent": 1}
    session = fake.calls("/xrpc/com.atproto.server.createSession")[0]
    assert json.loads(session[3]) == {"identifier": "news.example.org", "password": PASSWORD}
    assert Image.open(io.BytesIO(fake.blobs[0])).format == "PNG"
    [(rkey, created)] = fake.records.items()
    record = created["record"]
    assert created["collection"] == "app.bsky.feed.post" and len(rkey) == 13
    [image] = record["embed"]["images"]
    assert "Headline changed from “Council Approves Budget”" in image["alt"]
    text = record["text"].encode()
    article = store.articles.find_one()
    links = {
        text[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]["uri"]
        for f in record["facets"]
    }
    assert links == {
        "article": URL,
        "diff": f"https://diff.example.org/articles/{article['_id']}/diff/0/1",
    }
    assert len(record["text"]) <= 300


def test_wayback_archives_each_version_and_stores_the_url(fake, ingest, store, tmp_path):
    targets = targets_for(fake, wayback={})
    headline_change(ingest(targets))
    assert publisher(store, targets, tmp_path).run() == {"sent": 2}
    saves = fake.calls("/save")
    assert [s[2]["authorization"] for s in saves] == [f"LOW {SPN_KEY}"] * 2
    assert fake.saves == [URL, URL]
    archived = [v["archive_url"] for v in store.versions.find({}, sort=[("number", 1)])]
    assert archived == [
        f"{fake.url}/web/20260101120001/{URL}",
        f"{fake.url}/web/20260101120002/{URL}",
    ]


# --- retries, crashes, outages -------------------------------------------------------------


def test_429_and_503_are_retried_after_retry_after_and_back_off(fake, ingest, store, tmp_path):
    targets = targets_for(fake, webhook={})
    headline_change(ingest(targets))
    fake.fail["/hook"] = [(429, {"Retry-After": "300"}), (503, {})]
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    assert pub.run() == {"retry": 1}
    entry = Outbox(store).entries.find_one()
    assert entry["due"] == clock.now + timedelta(seconds=300)  # Retry-After beats the 60 s back-off
    assert "HTTP 429" in entry["error"]
    clock.sleep(299)
    assert pub.run() == {}  # not due yet
    clock.sleep(1)
    assert pub.run() == {"retry": 1}  # the 503
    assert Outbox(store).entries.find_one()["due"] == clock.now + timedelta(seconds=120)
    clock.sleep(120)
    assert pub.run() == {"sent": 1}
    assert len(fake.hooks) == 1 and len(fake.calls("/hook")) == 3
    assert Outbox(store).entries.find_one()["attempts"] == 3


def test_mastodon_rate_limit_reply_is_honoured(fake, ingest, store, tmp_path):
    targets = targets_for(fake, mastodon={})
    headline_change(ingest(targets))
    fake.fail["/api/v2/media"] = [(429, {"Retry-After": "900"})]
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    assert pub.run() == {"retry": 1}
    assert Outbox(store).entries.find_one()["due"] == clock.now + timedelta(seconds=900)
    clock.sleep(900)
    assert pub.run() == {"sent": 1} and len(fake.statuses) == 1


def test_a_service_down_for_an_hour_loses_nothing(fake, ingest, store, tmp_path):
    targets = targets_for(fake, webhook={}, mastodon={}, bluesky={}, wayback={})
    run = ingest(targets)
    for i in range(3):
        run(0, url=f"{URL}?story={i}")
        run(30, url=f"{URL}?story={i}", title=f"Budget story {i} rewritten")
    fake.down = True
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    while clock.now < T0 + timedelta(hours=2):  # an hour of 503s, a run every five minutes
        pub.run()
        clock.sleep(300)
    assert not fake.hooks and not fake.statuses and not fake.records and not fake.saves
    fake.down = False
    for _ in range(24):  # two more hours of five-minute runs
        pub.run()
        clock.sleep(300)
    entries = list(Outbox(store).entries.find())
    assert len(entries) == 3 * 3 + 6  # three changes to three targets, six versions archived
    assert {e["state"] for e in entries} == {"sent"}
    assert len(fake.hooks) == 3 and len(fake.statuses) == 3 and len(fake.records) == 3
    assert sorted(fake.saves) == sorted([f"{URL}?story={i}" for i in range(3)] * 2)


def test_gives_up_after_max_tries_and_health_reports_it(
    fake, ingest, store, tmp_path, crawl_settings
):
    from scrapy.settings import Settings

    from newsdiff.commands.health import outlet_report

    targets = targets_for(fake, webhook={})
    headline_change(ingest(targets))
    fake.down = True
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock, max_tries=3)
    outcomes = []
    for _ in range(20):
        outcomes += list(pub.run().elements())
        clock.sleep(600)
    assert outcomes == ["retry", "retry", "failed"]
    report = outlet_report(store, "nytimes", clock.now, Settings(crawl_settings()))
    assert report["publish_failed"] == 1
    assert "publishing gave up on 1 to webhook" in " ".join(report["broken"])
    fake.down = False
    assert Outbox(store).requeue_failed(clock.now) == 1
    assert pub.run() == {"sent": 1}
    assert (
        outlet_report(store, "nytimes", clock.now, Settings(crawl_settings()))["publish_failed"]
        == 0
    )


def test_rate_limit_per_hour(fake, ingest, store, tmp_path):
    targets = targets_for(fake, webhook={"per_hour": 2})
    run = ingest(targets)
    for i in range(3):
        run(0, url=f"{URL}?story={i}")
        run(30, url=f"{URL}?story={i}", title=f"Budget story {i} rewritten")
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    assert pub.run() == {"sent": 2, "rate-limited": 1}
    clock.sleep(1800)
    assert pub.run() == {"rate-limited": 1}
    clock.sleep(1801)
    assert pub.run() == {"sent": 1}


class Crash(BaseException):
    """Stands for the process dying: nothing catches it."""


def test_bluesky_crash_after_posting_does_not_post_twice(
    fake, ingest, store, tmp_path, monkeypatch
):
    targets = targets_for(fake, bluesky={})
    headline_change(ingest(targets))
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock, lease=timedelta(minutes=10))

    def crash(*args, **kwargs):
        raise Crash

    with monkeypatch.context() as m:
        m.setattr(Outbox, "sent", crash)
        with pytest.raises(Crash):
            pub.run()
    assert len(fake.records) == 1
    assert Outbox(store).entries.find_one()["state"] == "sending"
    assert pub.run() == {}  # the claim is still leased
    clock.sleep(601)
    assert pub.run() == {"sent": 1}
    assert len(fake.records) == 1
    entry = Outbox(store).entries.find_one()
    assert (
        entry["result"] == f"at://did:plc:newsdifftest0000000000/app.bsky.feed.post/{entry['key']}"
    )


def publish_env(mongo_uri, db_name, tmp_path, targets) -> dict:
    import os

    return {
        **os.environ,
        "NEWSDIFF_MONGO_URI": mongo_uri,
        "NEWSDIFF_MONGO_DB": db_name,
        "NEWSDIFF_DATA_DIR": str(tmp_path / "data"),
        "NEWSDIFF_PUBLISH": json.dumps(targets),
        "NEWSDIFF_VIEWER_URL": "https://diff.example.org",
    }


def test_mastodon_crash_between_posting_and_recording_posts_once(
    fake, ingest, store, tmp_path, mongo_uri, db_name
):
    targets = targets_for(fake, mastodon={})
    headline_change(ingest(targets))
    env = publish_env(mongo_uri, db_name, tmp_path, targets)
    command = [sys.executable, "-m", "scrapy", "publish"]
    first = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    fake.kill_after_status = first.pid  # killed once the status is stored, before it hears back
    first.communicate(timeout=120)
    assert first.returncode == -9
    assert len(fake.statuses) == 1
    assert Outbox(store).entries.find_one()["state"] == "sending"
    second = subprocess.run(
        [*command, "-s", "NEWSDIFF_PUBLISH_LEASE_SECONDS=0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 0, second.stderr
    assert "1 sent" in second.stdout
    posts = fake.calls("/api/v1/statuses")
    assert len(posts) == 2 and posts[0][2]["idempotency-key"] == posts[1][2]["idempotency-key"]
    assert len(fake.statuses) == 1  # the service saw one status
    assert Outbox(store).entries.find_one()["state"] == "sent"
    for output in (second.stdout, second.stderr):
        assert TOKEN not in output


def test_dry_run_prints_what_would_go_out_and_sends_nothing(
    fake, ingest, store, tmp_path, mongo_uri, db_name
):
    targets = targets_for(fake, mastodon={}, webhook={})
    headline_change(ingest(targets))
    env = publish_env(mongo_uri, db_name, tmp_path, targets)
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "publish", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "[mastodon]" in done.stdout and "[webhook]" in done.stdout
    picture = next(
        line.split(": ", 1)[1]
        for line in done.stdout.splitlines()
        if line.strip().startswith("picture:")
    )
    assert Image.open(picture).format == "PNG"
    assert "alt: What changed in the nytimes article from version 0 to version 1." in done.stdout
    assert "Diff: https://diff.example.org/articles/" in done.stdout
    assert not fake.requests
    assert {e["state"] for e in Outbox(store).entries.find()} == {"pending"}


def test_secrets_stay_out_of_logs_errors_and_the_database(fake, ingest, store, tmp_path, caplog):
    targets = targets_for(fake, webhook={}, mastodon={}, bluesky={}, wayback={})
    headline_change(ingest(targets))
    echo = {"error": f"bad credentials {TOKEN} {PASSWORD} {SPN_KEY} {HOOK_KEY}"}
    fake.fail = {  # each service rejects the first try, quoting our secrets back at us
        path: [(401, {}, echo)]
        for path in ("/hook", "/api/v2/media", "/xrpc/com.atproto.server.createSession", "/save")
    }
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    assert pub.run() == {"retry": 4, "sent": 1}  # the first version's archive went through
    clock.sleep(3600)
    assert pub.run() == {"sent": 4}
    stored = json.dumps(list(Outbox(store).entries.find()), default=str)
    stored += json.dumps(list(store.versions.find()), default=str)
    for secret in (TOKEN, PASSWORD, SPN_KEY, HOOK_KEY):
        assert secret not in caplog.text
        assert secret not in stored
    assert "HTTP 401" in caplog.text  # the failures were logged, without secrets


def test_a_missing_secret_spends_no_tries(fake, ingest, store, tmp_path, monkeypatch, caplog):
    targets = targets_for(fake, mastodon={})
    headline_change(ingest(targets))
    monkeypatch.delenv("ND_TEST_MASTODON")
    pub = publisher(store, targets, tmp_path)
    assert pub.run() == {"misconfigured": 1}
    assert "environment variable ND_TEST_MASTODON is unset" in caplog.text
    entry = Outbox(store).entries.find_one()
    assert entry["state"] == "pending" and entry["attempts"] == 0


# --- the picture ---------------------------------------------------------------------------


def test_viewer_serves_the_diff_picture(fake, ingest, store):
    from starlette.testclient import TestClient

    from newsdiff.web.app import create_app

    headline_change(ingest([]))
    article = store.articles.find_one()
    client = TestClient(create_app(store))
    response = client.get(f"/articles/{article['_id']}/diff/0/1.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.width == 1200 and 300 < image.height <= 1500
    # The headline's insertions are marked in green; nothing was deleted, so there is no red.
    colours = {c for _, c in image.convert("RGB").getcolors(1 << 16)}
    assert any(abs(r - 214) + abs(g - 244) + abs(b - 218) < 12 for r, g, b in colours)
    assert not any(abs(r - 253) + abs(g - 226) + abs(b - 225) < 12 for r, g, b in colours)
    page = client.get(f"/articles/{article['_id']}/diff/0/1")  # the HTML page links the picture
    assert (
        page.status_code == 200 and f'href="/articles/{article["_id"]}/diff/0/1.png"' in page.text
    )
    assert client.get(f"/articles/{article['_id']}/diff/0/7.png").status_code == 404


def test_card_of_a_long_rewrite_stays_legible_and_small():
    from newsdiff.publish.card import render_card

    words = ["council", "budget", "vote", "mayor", "taxes", "region", "debate", "plan", "critic"]
    body = [" ".join(words[(i + j) % 9] for j in range(120)) for i in range(30)]
    rewritten = [p.replace("taxes", "levies").replace("mayor", "governor") for p in body]
    old = {"number": 0, "fetched_at": T0, "title": "A " * 40, "body": body}
    new = {
        "number": 1,
        "fetched_at": T0 + timedelta(hours=1),
        "title": "B " * 40,
        "body": rewritten,
    }
    png = render_card({"outlet": "nytimes", "url": URL}, old, new)
    image = Image.open(io.BytesIO(png))
    assert len(png) < 950_000  # Bluesky takes at most 1,000,000 bytes
    colours = {c for _, c in image.convert("RGB").getcolors(1 << 16)}
    assert any(abs(r - 253) + abs(g - 226) + abs(b - 225) < 12 for r, g, b in colours)  # struck
    assert image.width == 1200 and image.height <= 1500


def drawn(text: str, font) -> bytes:
    image = Image.new("L", (96, 64))
    ImageDraw.Draw(image).text((8, 8), text, font=font, fill=255)
    return image.tobytes()


@pytest.mark.parametrize(
    ("before", "after", "other"),
    [
        # Chinese "tens of thousands" -> "over a hundred thousand", and "十" for "千"
        ("造成数万居民被转移", "造成十多万居民被转移", "造成千多万居民被转移"),
        ("ฝนตกหนักทั้งคืน", "ฝนตกเล็กน้อยทั้งคืน", "ฝนตกเล็กน้อยทั้งวัน"),  # Thai: heavy/light rain
        ("台風は東京に上陸した", "台風は大阪に上陸した", "台風は京都に上陸した"),  # Japanese
        ("Суд оставил в силе приговор", "Суд отменил приговор", "Суд отложил приговор"),
        ("Η κυβέρνηση αρνείται", "Η κυβέρνηση παραδέχεται", "Η κυβέρνηση διαψεύδει"),
    ],
)
def test_the_picture_draws_letters_the_built_in_font_has_not(before, after, other):
    # Pillow's built-in font has letters for English and Western Europe only: every other one
    # was the same box, so two edits that differ in such letters made the same picture. Drawn
    # in the machine's font for them (CI installs DejaVu, small Chinese and Thai fonts), they
    # differ.
    from newsdiff.publish.card import render_card

    old = {"number": 0, "fetched_at": T0, "title": "—", "body": [before]}
    new = {"number": 1, "fetched_at": T0 + timedelta(hours=1), "title": "—", "body": [after]}
    article = {"outlet": "example", "url": URL}
    assert render_card(article, old, new) != render_card(article, old, new | {"body": [other]})


def test_every_character_of_a_change_is_drawn_as_itself_not_as_a_box():
    from newsdiff.publish.card import font

    # a dash and the euro in English news, Polish, Turkish, Greek, Cyrillic, Hebrew, Arabic,
    # Chinese, Japanese kana, Thai
    for char in "—€łşΩЖשس中かไ":
        assert drawn(char, font(32, char)) != drawn("\U0010fffd", font(32, char)), char
    assert font(32, "Council votes").getname()[0] == "Aileron"  # English: the built-in font


def test_a_right_to_left_paragraph_reads_from_the_right_edge():
    # Hebrew: "The minister said on Tuesday that the NATO summit would be held in 2025"; the
    # Latin name and the year keep their own order inside it
    from newsdiff.diff import Segment
    from newsdiff.publish.card import MARGIN, WIDTH, _Canvas, font

    canvas = _Canvas()
    canvas.block(
        [Segment("equal", "השר אמר ביום שלישי כי פסגת NATO Summit תתקיים ב-2025 בירושלים")], 32
    )
    placed = {text: x for kind, x, _, text, _, _ in canvas.ops if kind == "piece"}
    assert placed["השר"] > placed["אמר"] > placed["ביום"]  # the first word at the right
    assert placed["NATO"] < placed["Summit"]  # a run of Latin words keeps its order
    assert placed["Summit"] < placed["פסגת"] and placed["בירושלים"] < placed["ב-2025"]
    right = max(x + font(32, t).getlength(t) for t, x in placed.items())
    assert abs(right - (WIDTH - MARGIN)) <= 2  # aligned to the right edge
    english = _Canvas()
    english.block([Segment("equal", "The minister said")], 32)
    assert [x for kind, x, *_ in english.ops if kind == "piece"][0] == MARGIN


def test_a_right_to_left_word_is_drawn_in_reading_order_without_raqm(monkeypatch):
    from PIL import features

    from newsdiff.publish import card

    assert card._as_drawn("שלום") == "שלום"  # Raqm (here) orders a word's letters itself
    monkeypatch.setattr(features, "check", lambda name: False)  # a machine without libfribidi
    assert card._as_drawn("שלום") == "םולש"
    assert card._as_drawn("NATO") == "NATO"


def test_a_summary_edit_is_in_the_picture_and_its_alt_text():
    from newsdiff.publish.card import render_card
    from newsdiff.publish.compose import Change

    old = {
        "number": 0,
        "fetched_at": T0,
        "title": "Budget Passes",
        "summary": "The council approved it after a long night of debate.",
        "body": ["The council voted on Tuesday."],
    }
    new = old | {
        "number": 1,
        "fetched_at": T0 + timedelta(hours=1),
        "summary": "The council approved it after a long night of bitter debate.",
    }
    article = {"_id": "a1", "outlet": "nytimes", "url": URL}
    change = Change.of(article, old, new, "https://diff.example.org")
    assert change.headline_line() == "nytimes changed the summary of “Budget Passes”"
    alt = change.alt_text()
    assert "Summary changed from" in alt and "Summary added: “bitter”" in alt
    unchanged = new | {"summary": old["summary"]}
    assert render_card(article, old, new) != render_card(article, old, unchanged)


def test_the_end_of_a_crawl_can_deliver_the_outbox(fake, ingest, store, crawl_settings):
    from scrapy.exceptions import NotConfigured

    from newsdiff.publish.extension import PublishAfterCrawl

    targets = targets_for(fake, webhook={})
    headline_change(ingest(targets))
    settings = crawl_settings(NEWSDIFF_PUBLISH=json.dumps(targets))
    with pytest.raises(NotConfigured):  # off by default
        PublishAfterCrawl.from_crawler(get_crawler(Spider, settings))
    crawler = get_crawler(Spider, {**settings, "NEWSDIFF_PUBLISH_AFTER_CRAWL": True})
    crawler.stats.open_spider()
    assert PublishAfterCrawl.from_crawler(crawler).publish() == {"sent": 1}
    assert len(fake.hooks) == 1
    assert crawler.stats.get_value("newsdiff/publish/sent") == 1


def test_bluesky_logs_in_once_per_run(fake, ingest, store, tmp_path):
    targets = targets_for(fake, bluesky={})
    run = ingest(targets)
    for i in range(3):
        run(0, url=f"{URL}?story={i}")
        run(30, url=f"{URL}?story={i}", title=f"Budget story {i} rewritten")
    assert publisher(store, targets, tmp_path).run() == {"sent": 3}
    assert len(fake.records) == 3
    assert len(fake.calls("/xrpc/com.atproto.server.createSession")) == 1


def test_publish_wait_sits_out_a_short_retry_after_and_stops(fake, ingest, store, tmp_path):
    targets = targets_for(fake, webhook={"per_hour": 1}, mastodon={})
    run = ingest(targets)
    for i in range(2):
        run(0, url=f"{URL}?story={i}")
        run(30, url=f"{URL}?story={i}", title=f"Budget story {i} rewritten")
    fake.fail["/hook"] = [(503, {"Retry-After": "30"})]
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    start = clock.now
    counts = pub.run_until_idle(120)
    # The webhook's first change meets a 503 and its second goes out; 60 s later (the back-off
    # beats Retry-After) the first is due again but over the hourly limit, and the command ends
    # instead of spinning on it.
    assert counts == {"sent": 3, "retry": 1, "rate-limited": 1}
    assert clock.now - start == timedelta(seconds=60)
    assert len(fake.hooks) == 1 and len(fake.statuses) == 2


def test_a_webhook_url_holding_a_token_comes_from_the_environment(
    fake, ingest, store, tmp_path, monkeypatch, caplog
):
    hook_path = f"/hook?token={uuid.uuid4().hex}"
    monkeypatch.setenv("ND_TEST_HOOK_URL", fake.url + hook_path)
    targets = [{"type": "webhook", "url_env": "ND_TEST_HOOK_URL"}]
    headline_change(ingest(targets))
    fake.fail["/hook"] = [(503, {})]
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    printed = []
    pub.run(dry_run=True, out=printed.append)
    assert "POST $ND_TEST_HOOK_URL" in printed[0]
    assert pub.run() == {"retry": 1}
    clock.sleep(60)
    assert pub.run() == {"sent": 1}
    assert [c[1] for c in fake.calls("/hook")] == [hook_path] * 2
    stored = json.dumps(list(Outbox(store).entries.find()), default=str)
    assert hook_path.split("=")[1] not in caplog.text + stored + printed[0]


def test_a_slow_archive_job_is_asked_about_again_not_started_twice(fake, ingest, store, tmp_path):
    targets = targets_for(fake, wayback={"labels": ["change"], "polls": 2})
    headline_change(ingest(targets))
    fake.spn_pending = 3
    clock = Clock()
    pub = publisher(store, targets, tmp_path, clock)
    assert pub.run() == {"retry": 1}
    assert Outbox(store).entries.find_one()["job_id"] == "spn2-1"
    clock.sleep(60)
    assert pub.run() == {"sent": 1}
    assert fake.saves == [URL] and len(fake.calls("/save/status/spn2-1")) == 4
    assert store.versions.find_one({"number": 1})["archive_url"].endswith(f"/{URL}")


def test_keys_made_at_one_instant_differ_and_keep_their_order():
    """An entry's key is its Mastodon Idempotency-Key and its Bluesky record key: entries claimed
    in the same microsecond (or under a clock that stands still) must not share one, or the
    second post would be answered as a repeat of the first and never made."""
    from newsdiff.publish.services import tid

    now = datetime(2026, 1, 1, tzinfo=UTC)
    keys = [tid(now) for _ in range(3000)]
    assert len(set(keys)) == len(keys)
    assert keys == sorted(keys) and all(len(k) == 13 for k in keys)
