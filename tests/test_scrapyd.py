"""End to end under a real Scrapyd 1.6: deploy with scrapyd-deploy, schedule, read the job log."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from newsdiff.nodes import Node, NodeError
from newsdiff.replay import build_nytimes_site
from tests.conftest import ROOT
from tests.crawling import GREECE, assert_consistent, edit
from tests.scrapyd_env import PASSWORD, USERNAME, Scrapyd, ensure_venv, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def scrapyd_venv():
    return ensure_venv()


@pytest.fixture
def scrapyd(scrapyd_venv, tmp_path):
    server = Scrapyd(scrapyd_venv, tmp_path / "scrapyd")
    yield server
    server.stop()


def job_settings(site, mongo_uri, db_name, data_dir) -> dict[str, str]:
    """What each job needs, passed as schedule.json `setting=K=V` values."""
    return {
        "NEWSDIFF_MONGO_URI": mongo_uri,
        "NEWSDIFF_MONGO_DB": db_name,
        "NEWSDIFF_DATA_DIR": str(data_dir),
        "NEWSDIFF_HOST_MAP": json.dumps(site.host_map()),
        "AUTOTHROTTLE_ENABLED": "0",
    }


def assert_clean(log: str) -> None:
    assert "Disabled" not in log, log
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert not errors, "\n".join(errors)


def test_scrapyd_requires_credentials(scrapyd):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(scrapyd.url + "daemonstatus.json", timeout=10)
    assert info.value.code == 401


def test_deploy_schedule_and_recheck(scrapyd, site, store, mongo_uri, db_name, tmp_path):
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    answer = scrapyd.deploy("1.0.0")
    assert answer["status"] == "ok"
    spiders = scrapyd.get("listspiders.json", project="newsdiff")["spiders"]
    # Python outlets and those declared in outlets.toml, which the egg carries as package data.
    assert {"nytimes", "npr"} <= set(spiders), spiders

    settings = job_settings(site, mongo_uri, db_name, tmp_path / "data")
    job = scrapyd.schedule("nytimes", settings=settings, mode="discover")
    scrapyd.wait_finished(job)
    log = scrapyd.job_log("nytimes", job)
    assert_clean(log)
    assert re.search(r"newsdiff nytimes: .* finished: finished", log), log[-3000:]
    assert store.versions.count_documents({}) == len(urls)

    # An edit, then a forced re-check through schedule.json arguments: one new version.
    edit(site.root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")
    job = scrapyd.schedule("nytimes", settings=settings, mode="recheck", force="1")
    scrapyd.wait_finished(job)
    log = scrapyd.job_log("nytimes", job)
    assert_clean(log)
    assert "'newsdiff/versions/new': 1" in log, log[-3000:]
    assert store.versions.count_documents({}) == len(urls) + 1
    assert_consistent(store)
    finished = scrapyd.get("listjobs.json", project="newsdiff")["finished"]
    assert {j["id"] for j in finished} >= {job}


def test_bad_spider_argument_fails_the_job(
    scrapyd, project_egg, site, store, mongo_uri, db_name, tmp_path
):
    scrapyd.deploy("1.0.0", egg=project_egg)
    settings = job_settings(site, mongo_uri, db_name, tmp_path / "data")
    job = scrapyd.schedule("nytimes", settings=settings, mode="everything")
    scrapyd.wait_finished(job)
    assert "mode must be one of" in scrapyd.job_log("nytimes", job)
    assert store.versions.count_documents({}) == 0


def test_deploy_scrapyd_conf_serves_with_credentials_from_the_environment(scrapyd_venv, tmp_path):
    """deploy/scrapyd.conf as installed, its directories moved under tmp; auth from the env."""
    conf = (ROOT / "deploy" / "scrapyd.conf").read_text()
    assert "bind_address = 127.0.0.1" in conf
    home = tmp_path / "home"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        conf.replace("/var/lib/newsdiff", str(tmp_path)).replace("/var/log/newsdiff", str(tmp_path))
    )
    port = free_port()
    env = {
        **os.environ,
        "SCRAPYD_HTTP_PORT": str(port),
        "SCRAPYD_USERNAME": USERNAME,
        "SCRAPYD_PASSWORD": PASSWORD,
    }
    with (home / "out.log").open("wb") as out:
        proc = subprocess.Popen(
            [str(scrapyd_venv / "bin" / "scrapyd")], cwd=home, env=env, stdout=out, stderr=out
        )
    try:
        node = Node("default", f"http://127.0.0.1:{port}/", env)
        deadline = time.monotonic() + 60
        while True:
            try:
                assert node.call("daemonstatus.json")["status"] == "ok"
                break
            except NodeError:
                assert time.monotonic() < deadline, (home / "out.log").read_text()
                time.sleep(0.2)
        with pytest.raises(NodeError, match="HTTP 401"):
            Node("default", node.url, {}).call("daemonstatus.json")
        assert (tmp_path / "scrapyd" / "dbs").is_dir()  # SqliteJobStorage's database
    finally:
        proc.terminate()
        proc.wait(30)
