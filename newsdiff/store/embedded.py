"""The embedded default store: a SecantusDB server (MongoDB wire protocol) in its own process.

Every newsdiff process that finds NEWSDIFF_MONGO_URI unset calls ensure_server(data_dir): the
first one starts a small supervisor process (main() below) which runs
`secantusd-py` on a free 127.0.0.1 port and writes the port to DATA_DIR/embedded.json; the others
connect to it. So a crawl and the viewer can use the same data at the same time (one process owns
a WiredTiger directory). The supervisor stops the server once no other client has been connected
for NEWSDIFF_EMBEDDED_IDLE_SECONDS (default 600). SecantusDB is GPL-2.0-only; running it as its
own process keeps it out of ours.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymongo

STATE_FILE = "embedded.json"
LOG_FILE = "secantusd.log"
APPNAME = "newsdiff-embedded-supervisor"
_LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started or reached."""


@contextlib.contextmanager
def _flock(path: Path):
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _uri(port: int) -> str:
    # retryWrites=false: SecantusDB slows ~20x after 10,000 retryable writes (see notes).
    return f"mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def running_uri(data_dir: Path) -> str | None:
    """The URI of the embedded server for data_dir, if one is running."""
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        os.kill(state["supervisor_pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return _uri(state["port"]) if _reachable(state["port"]) else None


def ensure_server(data_dir: Path, timeout: float = 60.0) -> str:
    """Return the URI of the embedded server for data_dir, starting it if needed."""
    data_dir = Path(data_dir).expanduser().absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _flock(data_dir / "start.lock"):
        uri = running_uri(data_dir)
        if uri:
            return uri
        (data_dir / STATE_FILE).unlink(missing_ok=True)
        # The child finds newsdiff where we did: a checkout, site-packages or Scrapyd's egg.
        home = str(Path(__file__).resolve().parents[2])
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; sys.path.append(sys.argv[2]); "
                "from newsdiff.store.embedded import main; main()",
                str(data_dir),
                home,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(data_dir / "supervisor.log", "ab"),  # noqa: SIM115
            start_new_session=True,  # outlives the crawl that started it; stops when idle
            close_fds=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and supervisor.poll() is None:  # it died: say why
            uri = running_uri(data_dir)
            if uri:
                return uri
            time.sleep(0.05)
    logs = [data_dir / LOG_FILE, data_dir / "supervisor.log"]
    log = "".join(
        f"\n{p.name}: …{p.read_bytes()[-2000:].decode(errors='replace')}"
        for p in logs
        if p.exists()
    )
    raise EmbeddedServerError(
        f"the embedded MongoDB server in {data_dir} did not start "
        + ("(its supervisor exited)" if supervisor.poll() is not None else f"within {timeout:.0f}s")
        + f"; see {data_dir / LOG_FILE} and supervisor.log. Last log lines:{log}"
    )


def secantusd() -> str:
    """The secantusd-py beside this Python (a virtual environment's bin), else on PATH."""
    beside = Path(sys.executable).parent / "secantusd-py"
    return str(beside) if beside.exists() else "secantusd-py"


def start_server(
    directory: Path, timeout: float = 60.0, port: int = 0
) -> tuple[subprocess.Popen, int]:
    """Start secantusd-py on 127.0.0.1 (a free port by default) with its data under directory."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "secantusd.toml"
    config.touch()  # an explicit, empty config: no auto-discovery of other files
    with open(directory / LOG_FILE, "ab") as log:
        start = log.tell()
        server = subprocess.Popen(
            [secantusd(), "--host", "127.0.0.1", "--port", str(port),
             "--storage-path", str(directory / "db"), "--config", str(config),
             "--cache-size", "256M", "--oplog-max-entries", "10000", "--log-level", "INFO"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while server.poll() is None and time.monotonic() < deadline:
        with open(directory / LOG_FILE, "rb") as fh:
            fh.seek(start)
            found = _LISTENING.search(fh.read())
        if found:
            return server, int(found.group(1))
        time.sleep(0.02)
    server.kill()
    raise EmbeddedServerError(f"secantusd-py did not start; see {directory / LOG_FILE}")


def _other_clients(client: pymongo.MongoClient) -> int:
    ops = client.admin.command("currentOp", {"$all": True})["inprog"]
    names = ((op.get("clientMetadata") or {}).get("application", {}).get("name") for op in ops)
    return sum(1 for name in names if name != APPNAME)


def supervise(data_dir: Path, idle_seconds: float, poll: float = 5.0) -> int:
    # Blocks while an idle server from before is still shutting down (it holds the lock).
    with _flock(data_dir / "server.lock"):
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        try:
            server, port = start_server(data_dir)
        except EmbeddedServerError:
            return 1
        tmp = data_dir / (STATE_FILE + ".tmp")
        tmp.write_text(
            json.dumps({"port": port, "supervisor_pid": os.getpid(), "server_pid": server.pid})
        )
        tmp.replace(data_dir / STATE_FILE)
        client = pymongo.MongoClient(_uri(port), appname=APPNAME, serverSelectionTimeoutMS=5000)
        idle_since = time.monotonic()
        try:
            while not stop and server.poll() is None:
                time.sleep(poll)
                try:
                    busy = _other_clients(client) > 0
                except pymongo.errors.PyMongoError:
                    busy = True
                if busy:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= idle_seconds:
                    with _flock(data_dir / "start.lock"):
                        if _other_clients(client) == 0:
                            (data_dir / STATE_FILE).unlink(missing_ok=True)
                            break
        finally:
            client.close()
            (data_dir / STATE_FILE).unlink(missing_ok=True)
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
        return 0


def stop_server(data_dir: Path, timeout: float = 30.0) -> bool:
    """Stop the embedded server for data_dir; True if one was running."""
    data_dir = Path(data_dir)
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        os.kill(state["supervisor_pid"], signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        return False
    # The supervisor holds server.lock until its server has exited (pid checks miss zombies).
    deadline = time.monotonic() + timeout
    with open(data_dir / "server.lock", "a+") as fh:
        while time.monotonic() < deadline:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                time.sleep(0.1)
                continue
            fcntl.flock(fh, fcntl.LOCK_UN)
            break
    return True


def main() -> None:
    idle = float(os.environ.get("NEWSDIFF_EMBEDDED_IDLE_SECONDS", "600"))
    sys.exit(supervise(Path(sys.argv[1]), idle_seconds=idle, poll=min(5.0, idle / 2)))
