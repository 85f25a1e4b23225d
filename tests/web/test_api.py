"""The JSON API and its OpenAPI description."""

from __future__ import annotations

import re

from starlette.routing import Route

from newsdiff.store.queries import ARTICLE_PRIVATE


def test_articles_list_and_paging(client, seeded):
    r = client.get("/api/articles?limit=2")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    data = r.json()
    assert [a["title"] for a in data["articles"]] == [
        "Storm Warning Issued",
        "Council Narrowly Approves Budget",
    ]
    first = data["articles"][0]
    assert first["outlet"] == "guardian"
    assert first["last_changed"] == "2026-01-01T15:20:00Z"
    assert first["links"]["html"] == f"/articles/{seeded.guardian}"
    assert data["next"].startswith("/api/articles?limit=2&before=")
    rest = client.get(data["next"]).json()
    assert [a["title"] for a in rest["articles"]] == ["A Quiet Story", "An Old Review"]
    assert rest["next"] is None


def test_articles_filters(client, seeded):
    data = client.get("/api/articles?outlet=guardian").json()
    assert [a["id"] for a in data["articles"]] == [seeded.guardian]
    data = client.get("/api/articles?q=QUIET").json()
    assert [a["id"] for a in data["articles"]] == [seeded.quiet]
    data = client.get("/api/articles?outlet=guardian&q=quiet").json()
    assert data["articles"] == []


def test_article_with_versions(client, seeded):
    data = client.get(f"/api/articles/{seeded.budget}").json()
    article = data["article"]
    assert article["id"] == seeded.budget
    assert article["version_count"] == 6
    assert not set(ARTICLE_PRIVATE) & set(article)
    assert [(v["number"], v["label"], v["hidden_by_default"]) for v in data["versions"]] == [
        (0, "first", False),
        (1, "change", False),
        (2, "trivial", True),
        (3, "change", False),
        (4, "flip-flop", True),
        (5, "change", False),
    ]
    assert data["versions"][3]["changed"] == ["body", "corrections"]
    assert data["versions"][3]["links"]["diff_previous"] == (
        f"/api/articles/{seeded.budget}/diff/2/3"
    )
    listed = client.get(f"/api/articles/{seeded.budget}/versions").json()["versions"]
    assert listed == data["versions"]


def test_version(client, seeded):
    data = client.get(f"/api/articles/{seeded.budget}/versions/3").json()["version"]
    assert data["number"] == 3
    assert data["article_id"] == seeded.budget
    assert data["body"][-1] == "The budget takes effect in July."
    assert data["corrections"] == ["Correction: An earlier version misstated the day of the vote."]
    assert data["fetched_at"] == "2026-01-01T13:30:00Z"
    assert re.fullmatch(r"[0-9a-f]{64}", data["snapshot"])


def test_diff_rebuilds_both_versions(client, seeded):
    data = client.get(f"/api/articles/{seeded.budget}/diff/1/3").json()
    assert data["from"]["number"] == 1 and data["to"]["number"] == 3
    diff = data["diff"]
    assert diff["changed"] == ["body", "corrections"]
    assert diff["summary"].startswith("Body: 1 paragraph changed, 1 added")
    old = client.get(f"/api/articles/{seeded.budget}/versions/1").json()["version"]
    new = client.get(f"/api/articles/{seeded.budget}/versions/3").json()["version"]
    rows = diff["fields"]["body"]["rows"]
    assert ["".join(t for _, t in r["old"]) for r in rows if r["old"] is not None] == old["body"]
    assert ["".join(t for _, t in r["new"]) for r in rows if r["new"] is not None] == new["body"]
    assert [op for op, _ in rows[1]["new"]] == ["equal", "insert", "equal"]
    assert data["links"]["html"] == f"/articles/{seeded.budget}/diff/1/3"


def test_outlets_and_health(client, seeded):
    names = [o["name"] for o in client.get("/api/outlets").json()["outlets"]]
    assert names == ["guardian", "nytimes"]
    health = client.get("/api/outlets/nytimes").json()["outlet"]
    assert health["tracked"] == 3
    assert health["changes_last_day"] == 3
    assert health["versions_last_day"] == {"first": 2, "change": 3, "trivial": 1, "flip-flop": 1}
    assert health["failing"] == 1
    assert health["failing_articles"][0]["reason"] == "extraction found no body"
    assert client.get("/api/outlets/nope").status_code == 404


def test_changes(client, seeded):
    changes = client.get("/api/changes?limit=2").json()["changes"]
    assert [(c["article_id"], c["number"]) for c in changes] == [
        (seeded.guardian, 1),
        (seeded.budget, 5),
    ]
    assert changes[1]["changed"] == ["byline", "body"]
    assert changes[1]["summary"].startswith("Byline changed")
    every = client.get("/api/changes?all=1&outlet=nytimes&limit=100").json()["changes"]
    assert {c["label"] for c in every} == {"first", "change", "trivial", "flip-flop"}


def test_openapi_document_describes_every_api_route(client, app):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    routes = {
        re.sub(r"\{(\w+)\}", r"{\1}", route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
    }
    assert routes == set(doc["paths"])
    text = r.text
    for ref in set(re.findall(r'"\$ref": ?"#/components/schemas/(\w+)"', text)):
        assert ref in doc["components"]["schemas"], ref
    for path, item in doc["paths"].items():
        for name in re.findall(r"\{(\w+)\}", path):
            params = {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "path"}
            assert name in params, (path, name)
