"""Read-only, escaped, CSP everywhere, and bad parameters are 4xx with a message, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import XSS_BODY, XSS_TITLE


def test_every_kind_of_response_carries_the_csp(client, seeded, monkeypatch):
    paths = [
        "/",
        "/outlets/nytimes",
        f"/articles/{seeded.budget}",
        "/feed.atom",
        "/api/articles",
        "/openapi.json",
        "/static/style.css",
        "/no/such/page",
        "/api/articles?bad=1",
        f"/articles/{seeded.budget}/diff/0/99",
    ]
    for path in paths:
        r = client.get(path)
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), path
        assert r.headers["x-content-type-options"] == "nosniff", path
    r = client.post("/")
    assert r.status_code == 405 and "content-security-policy" in r.headers

    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr("newsdiff.store.queries.Queries.recent_articles", boom)
    r = client.get("/")
    assert r.status_code == 500
    assert "simulated failure" not in r.text  # no internals leak
    assert "content-security-policy" in r.headers


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path", ["/", "/api/articles", "/articles/{budget}", "/api/articles/{budget}/versions/0"]
)
def test_read_only(client, seeded, viewer_db, method, path):
    store = viewer_db[0]
    before = (store.articles.count_documents({}), store.versions.count_documents({}))
    r = client.request(method, path.format(budget=seeded.budget), json={"title": "x"})
    assert r.status_code == 405
    assert "read-only" in r.text
    assert (store.articles.count_documents({}), store.versions.count_documents({})) == before


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/articles?outlet[$ne]=x", 400, "unknown parameter 'outlet[$ne]'"),
        ("/api/articles?outlet=%7B%22%24gt%22%3A%22%22%7D", 400, "outlet must be an outlet name"),
        ("/api/articles?outlet=a&outlet=b", 400, "given more than once"),
        ("/api/articles?limit=0", 400, "limit must be a whole number from 1 to 200"),
        ("/api/articles?limit=99999999999999999999", 400, "limit must be a whole number"),
        ("/api/articles?before=%7B%22%24gt%22%3A%22%22%7D", 400, "cursor is malformed"),
        ("/api/articles?before=99999999999999-0123456789abcdef01234567", 400, "out of range"),
        ("/api/articles?q=" + "x" * 201, 400, "longer than 200"),
        ("/api/articles?q=a%00b", 400, "control characters"),
        ("/api/articles/%7B%22%24gt%22%3A%22%22%7D", 404, "24 lower-case hexadecimal"),
        ("/api/articles/0123456789abcdef01234567", 404, "no article with id"),
        ("/api/articles/{budget}/versions/-1", 400, "version must be a version number"),
        ("/api/articles/{budget}/versions/1e3", 400, "version must be a version number"),
        ("/api/articles/{budget}/versions/99999999999999999999999", 400, "from 0 to 1000000"),
        ("/api/articles/{budget}/versions/6", 404, "has no version 6"),
        ("/api/articles/{budget}/diff/0/%24gt", 400, "to must be a version number"),
        ("/api/articles/{budget}/diff/0/9", 404, "it has versions 0 to 5"),
        ("/api/changes?all=maybe", 400, "all must be 1 or 0"),
        ("/api/outlets/NYTimes", 400, "outlet must be an outlet name"),
        ("/openapi.json?x=1", 400, "unknown parameter"),
        ("/articles/{budget}/compare?from=1", 400, "choose two versions"),
        ("/articles/{budget}/diff/a/b", 400, "from must be a version number"),
        ("/?before=nonsense", 400, "cursor is malformed"),
        ("/outlets/nope", 404, "no outlet named 'nope'"),
        ("/nothing/here", 404, "nothing here"),
    ],
)
def test_bad_parameters_get_a_clear_4xx(client, seeded, path, status, message):
    r = client.get(path.format(budget=seeded.budget))
    assert r.status_code == status, r.text
    if "/api/" in path or path.startswith("/openapi"):
        assert r.json()["error"]["status"] == status
        assert message in r.json()["error"]["message"]
    else:
        assert r.headers["content-type"].startswith("text/html")
        assert message in r.text.replace("&#39;", "'")


def test_operator_strings_are_just_strings(client, seeded):
    # Pages ignore unknown parameters, so a bracketed operator changes nothing...
    r = client.get("/?outlet[$ne]=guardian")
    assert r.status_code == 200 and "Storm Warning Issued" in r.text
    # ...and an operator-shaped search is a literal search for that text.
    r = client.get("/api/articles", params={"q": '{"$gt": ""}'})
    assert r.status_code == 200 and r.json()["articles"] == []
    r = client.get("/api/articles", params={"q": ".*"})  # not a regular expression either
    assert r.json()["articles"] == []


def test_article_content_is_escaped(fresh_client, hostile):
    client = fresh_client
    for path in (
        f"/articles/{hostile}",
        f"/articles/{hostile}/diff/0/1",
        f"/articles/{hostile}/versions/0",
        "/",
    ):
        html = client.get(path).text
        assert "<script" not in html and "<img" not in html and "<iframe" not in html, path
        assert "<svg" not in html and "<b " not in html and "<style>" not in html, path
        assert "&lt;script&gt;window.__pwned" in html, path
    html = client.get(f"/articles/{hostile}/versions/0").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript' not in html


def test_hostile_content_survives_the_feed_and_api_as_text(fresh_client, hostile):
    client = fresh_client
    import feedparser

    feed = feedparser.parse(client.get(f"/articles/{hostile}/feed.atom").content)
    assert not feed.bozo
    assert feed.entries[-1].title == f"First version: {XSS_TITLE}"
    data = client.get(f"/api/articles/{hostile}/versions/0").json()["version"]
    assert data["body"] == XSS_BODY


query_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            '{"$gt": ""}',
            "$where",
            "[$ne]",
            "0",
            "-1",
            "1e9",
            "%00",
            "../..",
            "ff" * 12,
            "1700000000000-" + "0" * 24,
            "\u202e",
            "null",
            "true",
        ]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["/", "/api/articles", "/api/changes", "/feed.atom", "/outlets/nytimes"]),
    params=st.dictionaries(
        st.sampled_from(["outlet", "q", "before", "limit", "all", "outlet[$ne]"]),
        query_values,
        max_size=4,
    ),
)
def test_no_parameter_makes_a_500(client, path, params):
    r = client.get(path, params=params)
    assert r.status_code in (200, 400, 404), (path, params, r.text[:300])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    segments=st.lists(
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(
                [
                    "0",
                    "5",
                    "99999999999",
                    "-1",
                    "0123456789abcdef01234567",
                    "%24gt",
                    "diff",
                    "versions",
                ]
            ),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_no_path_makes_a_500(client, segments):
    from urllib.parse import quote

    r = client.get("/api/articles/" + "/".join(quote(s, safe="") for s in segments))
    assert r.status_code in (200, 400, 404, 405), r.text[:300]
    r = client.get("/articles/" + "/".join(quote(s, safe="") for s in segments))
    assert r.status_code in (200, 303, 400, 404, 405), r.text[:300]
