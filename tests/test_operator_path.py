"""README "Running on a server", walked as an operator does: env file, Scrapyd, deploy, schedule.

Scrapyd runs in its own venv, without newsdiff installed (the deployed egg carries it), loads its
configuration from deploy/scrapyd.conf and deploy/env.example as edited by an operator, and is
started as the README's "Without systemd" says. Jobs are scheduled by `scrapy schedule` run the
way deploy/crontab runs it: first with the embedded default store, then on a second node on the
same host, with its own directory, scrapyd.conf and data, against an explicit MongoDB URI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsdiff.replay import build_nytimes_site
from newsdiff.store import Store
from newsdiff.store.embedded import running_uri, stop_server
from tests.conftest import ROOT
from tests.crawling import assert_consistent
from tests.scrapyd_env import PASSWORD, USERNAME, ensure_venv, free_port

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()
CRONTAB = (ROOT / "deploy" / "crontab").read_text()


def operator_env_file(path: Path, **values: str | None) -> Path:
    """deploy/env.example with some lines edited (None: commented out) and others added."""
    text = (ROOT / "deploy" / "env.example").read_text()
    for name, value in values.items():
        line = f"#{name}=''" if value is None else f"{name}='{value}'"
        text, found = re.subn(rf"(?m)^#?{name}=.*$", lambda _, line=line: line, text, count=1)
        if not found:
            text += line + "\n"
    path.write_text(text)
    return path


def loaded(env_file: Path, command: str) -> list[str]:
    """`command` after loading env_file the documented way, in a clean environment."""
    return ["sh", "-c", f'set -a; . "{env_file}"; set +a; exec {command}']


CLEAN = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}


class Node:
    """A Scrapyd from deploy/scrapyd.conf in a directory of its own, started without systemd."""

    def __init__(self, venv: Path, home: Path, env_file: Path):
        self.venv, self.home, self.port = venv, home, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        conf = (ROOT / "deploy" / "scrapyd.conf").read_text()
        conf = conf.replace("/var/lib/newsdiff", str(home)).replace(
            "/var/log/newsdiff", f"{home}/log"
        )
        conf = re.sub(r"(?m)^http_port = .*$", f"http_port = {self.port}", conf)
        conf = re.sub(r"(?m)^poll_interval = .*$", "poll_interval = 0.2", conf)  # quicker jobs
        (home / "scrapyd").mkdir(parents=True)
        (home / "scrapyd" / "scrapyd.conf").write_text(conf)
        self.out = (home / "scrapyd.out").open("wb")
        self.proc = subprocess.Popen(
            loaded(env_file, f"{venv}/bin/scrapyd"),
            cwd=home / "scrapyd",  # Scrapyd reads ./scrapyd.conf
            env=CLEAN,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while self.call("daemonstatus.json").get("status") != "ok":
            assert self.proc.poll() is None, (home / "scrapyd.out").read_text()
            assert time.monotonic() < deadline, "scrapyd did not start"
            time.sleep(0.3)

    def call(self, endpoint: str) -> dict:
        out = subprocess.run(
            ["curl", "-s", "-u", f"{USERNAME}:{PASSWORD}", self.url + endpoint],
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout) if out.returncode == 0 and out.stdout else {}

    def jobs(self) -> list[dict]:
        listing = self.call("listjobs.json?project=newsdiff")
        return listing["pending"] + listing["running"] + listing["finished"]

    def wait_finished(self, job: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while self.call(f"status.json?job={job}").get("currstate") != "finished":
            assert time.monotonic() < deadline, f"job {job} did not finish"
            time.sleep(0.3)
        return (self.home / "log" / "scrapyd" / "newsdiff" / "nytimes" / f"{job}.log").read_text()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self.out.close()


def deploy(node: Node, env_file: Path, workdir: Path, version: str) -> str:
    """README step 5/7: scrapyd-deploy by its full path, the version from git describe."""
    shutil.copytree(
        ROOT,
        workdir,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "artifacts", "demo-site", "build", "*.egg-info", "__pycache__"
        ),
    )
    deploy_cmd = f"{node.venv}/bin/scrapyd-deploy remote --version {version}"
    assert "/opt/newsdiff/scrapyd-venv/bin/scrapyd-deploy remote --version" in README
    out = subprocess.run(
        loaded(env_file, deploy_cmd),
        cwd=workdir,
        env={**CLEAN, "SCRAPYD_URL": node.url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def schedule(env_file: Path) -> subprocess.CompletedProcess:
    """`scrapy schedule` as deploy/crontab runs it: sh, the env file loaded, from the checkout."""
    assert "sh -c 'set -a; . /etc/newsdiff/env; set +a; exec .venv/bin/scrapy schedule'" in CRONTAB
    return subprocess.run(
        loaded(env_file, f"{sys.executable} -m scrapy schedule"),
        cwd=ROOT,
        env=CLEAN,
        capture_output=True,
        text=True,
        timeout=120,
    )


def summary_is_where_the_readme_says(log: str) -> None:
    """Step 8: the `newsdiff nytimes: … finished: finished` line just before the stats dump."""
    assert "just before Scrapy's stats dump" in README
    lines = log.splitlines()
    (i,) = [
        n for n, line in enumerate(lines) if re.search(r"newsdiff nytimes: .* finished: ", line)
    ]
    assert "finished: finished" in lines[i], lines[i]
    assert "Dumping Scrapy stats" in lines[i + 1], lines[i + 1]


def test_the_documented_server_path(tmp_path, site, mongo_uri, db_name, store):
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    venv = ensure_venv()
    assert not list(venv.glob("lib/python*/site-packages/newsdiff*"))  # only the egg has it
    version = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    assert version
    common = {
        "SCRAPYD_PASSWORD": PASSWORD,
        "SCRAPYD_USERNAME": USERNAME,
        "NEWSDIFF_HOST_MAP": json.dumps(site.host_map()),
    }
    data_a, data_b = tmp_path / "a" / "data", tmp_path / "b" / "data"
    # Node a: the embedded default (NEWSDIFF_MONGO_URI commented out).
    env_a = operator_env_file(
        tmp_path / "env-a",
        **common,
        NEWSDIFF_MONGO_URI=None,
        NEWSDIFF_DATA_DIR=str(data_a),
        NEWSDIFF_EMBEDDED_POLL_SECONDS="0.2",  # stop_server at the end need not wait 5 s
    )
    # Node b, on the same host: its own directory, scrapyd.conf, data and an explicit URI.
    env_b = operator_env_file(
        tmp_path / "env-b",
        **common,
        NEWSDIFF_MONGO_URI=mongo_uri,
        NEWSDIFF_MONGO_DB=db_name,
        NEWSDIFF_DATA_DIR=str(data_b),
    )
    a = Node(venv, tmp_path / "a", env_a)
    b = Node(venv, tmp_path / "b", env_b)
    try:
        for node, name in ((a, "a"), (b, "b")):
            deploy(node, env_a, tmp_path / f"deploy-{name}", version)
            assert node.call("listversions.json?project=newsdiff")["versions"] == [version]
        fast = {"AUTOTHROTTLE_ENABLED": "0"}
        nodes = json.dumps({"default": a.url, "b": b.url})

        # The embedded default under Scrapyd.
        plan = json.dumps({"nytimes": {"every": "1h", "settings": fast}})
        sched = operator_env_file(
            tmp_path / "env", **common, NEWSDIFF_NODES=nodes, NEWSDIFF_SCHEDULE=plan
        )
        result = schedule(sched)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "nytimes on default: scheduled job" in result.stdout, result.stdout
        (job,) = a.jobs()
        log = a.wait_finished(job["id"])
        assert " ERROR: " not in log, log[-3000:]
        summary_is_where_the_readme_says(log)
        embedded = Store(running_uri(data_a), "newsdiff")
        try:
            assert embedded.versions.count_documents({}) == len(urls)
            assert_consistent(embedded)
        finally:
            embedded.close()
        again = schedule(sched)
        assert "nytimes on default: skipped, not due for 59 minutes" in again.stdout, again.stdout

        # The second node with an explicit URI.
        plan = json.dumps({"nytimes": {"every": "1h", "node": "b", "settings": fast}})
        sched = operator_env_file(
            tmp_path / "env", **common, NEWSDIFF_NODES=nodes, NEWSDIFF_SCHEDULE=plan
        )
        result = schedule(sched)
        assert "nytimes on b: scheduled job" in result.stdout, result.stdout + result.stderr
        (job,) = b.jobs()
        summary_is_where_the_readme_says(b.wait_finished(job["id"]))
        assert store.versions.count_documents({}) == len(urls)
        assert_consistent(store)
    finally:
        a.stop()
        b.stop()
        stop_server(data_a)
