"""The embedded default store: no URI configured, a crawl and readers in other processes; a
server left without its supervisor, a server that fails every write."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pymongo
import pytest

from newsdiff.replay import build_nytimes_site
from newsdiff.store import Store, StoreError, open_store
from newsdiff.store.embedded import (
    STATE_FILE,
    EmbeddedServerError,
    ensure_server,
    running_uri,
    stop_server,
    terminate_server,
)
from tests.conftest import ROOT, scrapy_command
from tests.crawling import GREECE


@pytest.fixture(autouse=True)
def quick_supervisor(monkeypatch):
    """Supervisors probe every 0.2 s instead of 5: restarts and stops come without a wait."""
    monkeypatch.setenv("NEWSDIFF_EMBEDDED_POLL_SECONDS", "0.2")


def scrapy(data_dir, *args, host_map=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDIFF_MONGO")}
    env.update(
        NEWSDIFF_DATA_DIR=str(data_dir),
        NEWSDIFF_EMBEDDED_IDLE_SECONDS="2",
        NEWSDIFF_HOST_MAP=json.dumps(host_map or {}),
    )
    return scrapy_command(*args, env=env, timeout=300)


@pytest.mark.slow
def test_crawl_and_readers_share_the_embedded_server(site, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    build_nytimes_site(site.root)
    monkeypatch.delenv("NEWSDIFF_MONGO_URI", raising=False)
    monkeypatch.setenv("NEWSDIFF_EMBEDDED_IDLE_SECONDS", "2")
    reader = open_store({"NEWSDIFF_DATA_DIR": str(data_dir)})  # starts the server first
    try:
        crawl = scrapy(
            data_dir, "crawl", "nytimes", "-s", "AUTOTHROTTLE_ENABLED=0", host_map=site.host_map()
        )
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        assert reader.versions.count_documents({}) == 8  # written by the crawl process
        history = scrapy(data_dir, "history", GREECE, "--json")
        assert history.returncode == 0, history.stderr[-3000:]
        data = json.loads(history.stdout)
        assert data["url"] == GREECE
        assert [v["label"] for v in data["versions"]] == ["first"]
    finally:
        reader.close()
    # With every client gone the server stops by itself after the idle time.
    deadline = time.monotonic() + 30
    while running_uri(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running_uri(data_dir) is None
    assert not (data_dir / STATE_FILE).exists()
    # ... and the data is still there when the next process starts it again.
    again = open_store({"NEWSDIFF_DATA_DIR": str(data_dir)})
    try:
        assert again.versions.count_documents({}) == 8
    finally:
        again.close()
        stop_server(data_dir)


def _zip_package(egg: Path) -> None:
    """newsdiff as a zip on sys.path, like the egg Scrapyd runs a job from."""
    with zipfile.ZipFile(egg, "w") as z:
        for path in (ROOT / "newsdiff").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, path.relative_to(ROOT))


def test_embedded_server_starts_when_newsdiff_is_only_in_an_egg(tmp_path):
    egg = tmp_path / "newsdiff-1.0-py3.egg"
    _zip_package(egg)
    data_dir = tmp_path / "data"
    script = (
        f"import sys; sys.path.insert(0, {str(egg)!r}); "
        "from newsdiff.store.embedded import ensure_server; "
        f"print(ensure_server({str(data_dir)!r}, timeout=30))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr[-3000:]
        uri = out.stdout.strip()
        assert uri == running_uri(data_dir)
        store = Store(uri, "newsdiff")
        store.ping()
        store.close()
    finally:
        stop_server(data_dir)


def test_a_supervisor_that_cannot_start_says_why_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDIFF_EMBEDDED_IDLE_SECONDS", "ten minutes")
    started = time.monotonic()
    with pytest.raises(EmbeddedServerError) as info:
        ensure_server(tmp_path / "data", timeout=30)
    assert time.monotonic() - started < 15  # not the whole timeout
    assert "supervisor exited" in str(info.value)
    assert "could not convert string to float: 'ten minutes'" in str(info.value)


def _state(data_dir) -> dict:
    return json.loads((data_dir / STATE_FILE).read_text())


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@pytest.mark.slow
def test_a_server_that_outlived_its_supervisor_is_replaced(tmp_path, monkeypatch):
    """Its supervisor killed with SIGKILL, the server still holds the database: the next
    process stops it and starts a supervised one, instead of waiting for ever."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("NEWSDIFF_EMBEDDED_IDLE_SECONDS", "600")
    first = open_store({"NEWSDIFF_DATA_DIR": str(data_dir)})
    first.versions.insert_one({"kept": True})
    first.close()
    orphan = _state(data_dir)
    os.kill(orphan["supervisor_pid"], signal.SIGKILL)
    os.waitpid(orphan["supervisor_pid"], 0)  # reaped: gone, as when its parent has exited
    assert _running(orphan["server_pid"])
    try:
        again = open_store({"NEWSDIFF_DATA_DIR": str(data_dir)})
        try:
            assert again.versions.count_documents({"kept": True}) == 1
            again.versions.insert_one({"kept": True})
        finally:
            again.close()
        assert not _running(orphan["server_pid"])
        assert _state(data_dir)["server_pid"] != orphan["server_pid"]
    finally:
        stop_server(data_dir)
        if _running(orphan["server_pid"]):
            os.kill(orphan["server_pid"], signal.SIGKILL)


@pytest.mark.slow
def test_a_server_failing_every_write_is_restarted_by_its_supervisor(tmp_path, monkeypatch):
    """A storage engine that panicked (a full disk) leaves the server up, answering writes
    with an error: the supervisor restarts it on the same port, so clients go on."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secantusd.toml").write_text("[server]\nenable_test_commands = true\n")
    monkeypatch.setenv("NEWSDIFF_EMBEDDED_IDLE_SECONDS", "600")
    store = open_store({"NEWSDIFF_DATA_DIR": str(data_dir)})
    try:
        store.versions.insert_one({"kept": True})
        before = _state(data_dir)
        data = {"failCommands": ["insert", "update"], "errorCode": 1}
        store.client.admin.command("configureFailPoint", "failCommand", mode="alwaysOn", data=data)
        with pytest.raises(StoreError):
            store.versions.insert_one({"lost": True})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                store.versions.insert_one({"after": True})
                break
            except StoreError:
                time.sleep(0.1)
        else:
            pytest.fail("the server still fails writes after 90 s")
        # The new server answers a moment before the supervisor records its pid.
        after, recorded_by = _state(data_dir), time.monotonic() + 5
        while after["server_pid"] == before["server_pid"] and time.monotonic() < recorded_by:
            time.sleep(0.05)
            after = _state(data_dir)
        assert after["port"] == before["port"] and after["server_pid"] != before["server_pid"]
        assert after["supervisor_pid"] == before["supervisor_pid"]
        assert store.versions.count_documents({"kept": True}) == 1
        assert "the server fails writes" in (data_dir / "supervisor.log").read_text()
    finally:
        store.close()
        stop_server(data_dir)


@pytest.mark.slow
def test_a_server_that_still_fails_writes_after_a_restart_is_restarted_less_often(
    tmp_path, monkeypatch
):
    """A disk that stays full: each restart that did not help doubles the failed probes the
    next one waits for, instead of a restart every three probes for ever; a write that goes
    through again starts over at three."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secantusd.toml").write_text("[server]\nenable_test_commands = true\n")
    monkeypatch.setenv("NEWSDIFF_EMBEDDED_IDLE_SECONDS", "600")
    store = open_store({"NEWSDIFF_DATA_DIR": str(data_dir)})
    fail = {"failCommands": ["insert", "update"], "errorCode": 1}
    failing, armed, servers = threading.Event(), set(), []
    failing.set()

    def keep_failing():  # every new server fails writes too, as on a disk that is still full
        while failing.is_set():
            state = _state(data_dir)
            if state and state["server_pid"] not in armed:
                try:
                    with pymongo.MongoClient(
                        f"mongodb://127.0.0.1:{state['port']}/?directConnection=true",
                        serverSelectionTimeoutMS=2000,
                    ) as client:
                        client.admin.command(
                            "configureFailPoint", "failCommand", mode="alwaysOn", data=fail
                        )
                    armed.add(state["server_pid"])
                    servers.append(time.monotonic())
                except pymongo.errors.PyMongoError:
                    pass  # not listening yet
            time.sleep(0.05)

    watcher = threading.Thread(target=keep_failing, daemon=True)
    watcher.start()
    log = data_dir / "supervisor.log"
    try:
        deadline = time.monotonic() + 120
        while len(servers) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(servers) >= 4, log.read_text()
        waits = re.findall(r"the next restart after (\d+) failed probes", log.read_text())
        assert waits[:3] == ["6", "12", "24"]
        gaps = [b - a for a, b in itertools.pairwise(servers[:4])]
        assert gaps[0] < gaps[2], gaps  # 3 and 12 failed probes of 0.2 s, plus a restart each
        failing.clear()
        watcher.join()
        store.client.admin.command("configureFailPoint", "failCommand", mode="off")
        time.sleep(1)  # probes go through again
        restarts = len(re.findall("the next restart after 6 failed", log.read_text()))
        store.client.admin.command("configureFailPoint", "failCommand", mode="alwaysOn", data=fail)
        deadline = time.monotonic() + 60
        while len(re.findall("the next restart after 6 failed", log.read_text())) == restarts:
            assert time.monotonic() < deadline, log.read_text()  # back to 3 probes, then 6
            time.sleep(0.1)
    finally:
        failing.clear()
        store.close()
        stop_server(data_dir)


def test_stop_server_does_not_wait_for_the_next_probe(tmp_path, monkeypatch):
    """SIGTERM ends the supervisor's wait between probes at once, however long the interval."""
    monkeypatch.setenv("NEWSDIFF_EMBEDDED_POLL_SECONDS", "60")
    monkeypatch.delenv("NEWSDIFF_MONGO_URI", raising=False)
    data_dir = tmp_path / "data"
    store = open_store({"NEWSDIFF_DATA_DIR": str(data_dir)})
    store.close()
    started = time.monotonic()
    assert stop_server(data_dir)
    assert time.monotonic() - started < 15  # the server's own shutdown takes about 3 s
    assert running_uri(data_dir) is None


# A server whose first SIGTERM goes unheard, as when the kernel hands secantusd-py's signal to a
# thread other than the main one that acts on it; the next one closes its listener, then it
# takes argv[1] seconds to stop and prints how many SIGTERMs it got.
_DEAF_TO_THE_FIRST_SIGTERM = """
import signal, socket, sys, time
listener = socket.create_server(("127.0.0.1", 0))
heard = []
def on_term(*_):
    heard.append(1)
    if len(heard) == 2:
        listener.close()
        time.sleep(float(sys.argv[1]))
        print(len(heard), flush=True)
        sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print(listener.getsockname()[1], flush=True)
while True:
    time.sleep(0.05)
"""


def _deaf_server(stopping_seconds: float) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen(
        [sys.executable, "-c", _DEAF_TO_THE_FIRST_SIGTERM, str(stopping_seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    return server, int(server.stdout.readline())


def test_a_server_that_missed_sigterm_is_sent_another():
    """The supervisor signals again while the server still listens, instead of waiting 30 s
    for a server that never heard it (1 stop in 5 under load), and not once it is stopping."""
    server, port = _deaf_server(stopping_seconds=2.5)
    try:
        started = time.monotonic()
        terminate_server(server, port)
        assert time.monotonic() - started < 8
        assert server.returncode == 0  # it stopped on its own: not killed
        assert server.stdout.read().split() == ["2"]  # none sent once its listener closed
    finally:
        server.kill()
        server.wait()
