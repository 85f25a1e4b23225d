"""`scrapy extract` as a person runs it: a subprocess in the project directory, JSON on stdout."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import scrapy_command
from tests.corpus import FIXTURES, NYT_CORPUS, REPO

SUDAN = "readability-nytimes-1"
BLACKOUTS = "trafilatura-nytimes-2020-blackouts"


def scrapy_extract(*args: str) -> tuple[int, dict]:
    proc = scrapy_command("extract", *args, text=False)
    assert proc.stdout, proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


def expected(page_id: str) -> dict:
    return json.loads((FIXTURES / page_id / "expected.json").read_text(encoding="utf-8"))


def test_file_prints_the_extraction():
    code, result = scrapy_extract(str(NYT_CORPUS / SUDAN / "source.html"))
    assert code == 0
    assert result == expected(SUDAN)  # outlet guessed from the page's canonical URL


def test_section_front_exits_1_with_the_reason():
    code, result = scrapy_extract(str(NYT_CORPUS / "readability-nytimes-5" / "source.html"))
    assert code == 1
    assert result["not_article"] == "section-front"
    assert result["message"].endswith(".")


def test_url_and_outlet_options():
    page = str(NYT_CORPUS / BLACKOUTS / "source.html")
    _, generic = scrapy_extract(page, "--url", "https://example.com/a.html")
    assert generic["extractor"] == "trafilatura"  # no outlet rules for example.com
    _, forced = scrapy_extract(page, "--url", "https://example.com/a.html", "--outlet", "nytimes")
    assert forced == expected(BLACKOUTS)


def test_missing_file_exits_2():
    proc = scrapy_command("extract", str(REPO / "no-such-page.html"), text=False)
    assert proc.returncode == 2
    assert b"cannot read" in proc.stderr


class _Handler(SimpleHTTPRequestHandler):
    user_agents: list[str] = []

    def do_GET(self):  # noqa: N802
        self.user_agents.append(self.headers.get("User-Agent", ""))
        super().do_GET()

    def log_message(self, *args):
        pass


def test_http_url_is_fetched_with_the_project_user_agent():
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(NYT_CORPUS)))
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{SUDAN}/source.html"
        code, result = scrapy_extract(url, "--outlet", "nytimes")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0
    assert result == expected(SUDAN)
    assert _Handler.user_agents and _Handler.user_agents[-1].startswith("newsdiff/")


def test_a_latin1_page_declared_utf8_reads_as_a_crawl_reads_it(tmp_path):
    """A saved page's bytes go through the crawl's reading: Latin-1 text under a UTF-8
    declaration comes out as its words, not replacement characters."""
    paragraphs = "".join(
        f"<p>Die Gemeinderäte in Müllheim prüfen im {n}. Durchgang, ob die Straße über den "
        "Fluss für größere Fahrzeuge geöffnet wird; die Bürger äußern sich dazu in einer "
        "öffentlichen Sitzung im Rathaus, die für Donnerstag geplant ist.</p>"
        for n in range(1, 9)
    )
    page = tmp_path / "page.html"
    page.write_bytes(
        (
            '<html><head><meta charset="utf-8"><title>Brücke über die Möhne</title>'
            '<meta property="og:type" content="article"></head><body><article>'
            f"<h1>Brücke über die Möhne</h1>{paragraphs}</article></body></html>"
        ).encode("latin-1")
    )
    code, result = scrapy_extract(str(page), "--url", "https://example.de/bruecke.html")
    assert code == 0
    text = " ".join([result["title"], *result["body"]])
    assert "\ufffd" not in text
    assert result["title"] == "Brücke über die Möhne"
    assert "Gemeinderäte in Müllheim" in result["body"][0]
