"""The embedded default store: a SecantusDB server (MongoDB wire protocol) in its own process.

Every newsdiff process that finds NEWSDIFF_MONGO_URI unset calls ensure_server(data_dir): the
first one starts a small supervisor process (main() below) which runs
`secantusd-py` on a free 127.0.0.1 port and writes the port to DATA_DIR/embedded.json; the others
connect to it. So a crawl and the viewer can use the same data at the same time (one process owns
a WiredTiger directory). The supervisor stops the server once no other client has been connected
for NEWSDIFF_EMBEDDED_IDLE_SECONDS (default 600). SecantusDB is GPL-2.0-only; running it as its
own process keeps it out of ours.

Faults it recovers from: a server whose supervisor was killed (SIGKILL) still holds the database,
so ensure_server stops it before starting a new one; a server that stays up but fails every
write (its storage engine panicked on a full disk) is restarted on the same port by its supervisor
after WEDGED_AFTER failed write probes, then after twice as many each time writes still fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pymongo

from newsdiff.processes import alive

STATE_FILE = "embedded.json"
LOG_FILE = "secantusd.log"
APPNAME = "newsdiff-embedded-supervisor"
_LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
PROBE_DB = "newsdiff_supervisor"  # the supervisor's write probe: one small document
WEDGED_AFTER = 3  # consecutive failed write probes before the server is restarted
# A restart after which writes still fail (the disk is still full) doubles the failed probes the
# next one waits for, up to this many (10 minutes at the default 5 s), instead of every 15 s.
MAX_WEDGED_AFTER = 120

logger = logging.getLogger(__name__)


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


def _serves(pid: int, data_dir: Path) -> bool:
    """Whether pid is a secantusd-py on data_dir's database (not a process that reused the pid)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        ps = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True)
        args = ps.stdout.decode(errors="replace").split()
    return str(data_dir / "db") in args and any("secantusd" in arg for arg in args)


def _state(data_dir: Path) -> dict | None:
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def running_uri(data_dir: Path) -> str | None:
    """The URI of the embedded server for data_dir, if one is running under its supervisor."""
    state = _state(data_dir)
    try:
        if state is None or not alive(state["supervisor_pid"]):
            return None
        port = state["port"]
    except (KeyError, TypeError):
        return None
    return _uri(port) if _reachable(port) else None


def _stop_orphan(data_dir: Path) -> None:
    """Stop a server that outlived its supervisor (killed with SIGKILL): it still holds the
    database, so no new server could open it, and no supervisor would stop it when idle."""
    state = _state(data_dir) or {}
    pid, port = state.get("server_pid"), state.get("port")
    if not isinstance(pid, int) or not alive(pid) or not _serves(pid, data_dir):
        return
    logger.warning("Stopping the embedded server (pid %d) whose supervisor is gone", pid)
    _terminate(pid, port if isinstance(port, int) else None, lambda: alive(pid))


def _terminate(
    pid: int, port: int | None, running: Callable[[], bool], timeout: float = 30.0
) -> None:
    """SIGTERM the server, again each second while it still listens, then SIGKILL after
    timeout. secantusd-py handles SIGTERM in its main thread, which waits on a lock; a
    process-wide signal the kernel hands to one of its other threads is never acted on
    (1 stop in 5 under load), and it closes its listener first once it does act."""
    deadline = time.monotonic() + timeout
    send_at = 0.0
    while running() and (now := time.monotonic()) < deadline:
        if now >= send_at:
            if send_at and (port is None or not _reachable(port)):
                send_at = deadline  # it is stopping: wait for it
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                send_at = now + 1.0
        time.sleep(0.02)
    if running():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10.0
        while running() and time.monotonic() < deadline:
            time.sleep(0.05)


def ensure_server(data_dir: Path, timeout: float = 60.0) -> str:
    """Return the URI of the embedded server for data_dir, starting it if needed."""
    data_dir = Path(data_dir).expanduser().absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _flock(data_dir / "start.lock"):
        uri = running_uri(data_dir)
        if uri:
            return uri
        _stop_orphan(data_dir)
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
             "--cache-size", "256M", "--standalone", "--log-level", "INFO"],
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


def _probe_write(client: pymongo.MongoClient) -> str | None:
    """Why the server failed a small write, or None when it took it."""
    try:
        client[PROBE_DB].probe.update_one(
            {"_id": "supervisor"}, {"$set": {"at": time.time()}}, upsert=True
        )
    except pymongo.errors.PyMongoError as exc:
        return str(exc)[:300]
    return None


def terminate_server(server: subprocess.Popen, port: int) -> None:
    _terminate(server.pid, port, lambda: server.poll() is None)


def supervise(data_dir: Path, idle_seconds: float, poll: float = 5.0) -> int:
    # Blocks while an idle server from before is still shutting down (it holds the lock).
    with _flock(data_dir / "server.lock"):
        stop = _TermWait()
        try:
            server, port = start_server(data_dir)
        except EmbeddedServerError:
            return 1
        _write_state(data_dir, port, server.pid)
        client = pymongo.MongoClient(_uri(port), appname=APPNAME, serverSelectionTimeoutMS=5000)
        idle_since = time.monotonic()
        failed_probes, wedged_after = 0, WEDGED_AFTER
        try:
            while server.poll() is None:
                if stop.wait(poll):
                    break
                failure = _probe_write(client)
                failed_probes = failed_probes + 1 if failure else 0
                if not failure:
                    wedged_after = WEDGED_AFTER
                elif failed_probes >= wedged_after:
                    # Up but failing every write (a storage panic): a restart reopens the
                    # database; the same port lets clients reconnect on their own.
                    wedged_after = min(2 * wedged_after, MAX_WEDGED_AFTER)
                    print(
                        f"the server fails writes ({failure}); restarting it (if writes still "
                        f"fail, the next restart after {wedged_after} failed probes)",
                        file=sys.stderr,
                    )
                    terminate_server(server, port)
                    try:
                        server, _ = start_server(data_dir, port=port)
                    except EmbeddedServerError as exc:
                        print(f"restart failed: {exc}", file=sys.stderr)
                        return 1
                    _write_state(data_dir, port, server.pid)
                    failed_probes = 0
                    continue
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
            terminate_server(server, port)
        return 0


class _TermWait:
    """Waits between probes that SIGTERM ends at once. The signal may reach any thread (the
    pymongo client's too), so the wait is on the wakeup pipe, not interrupted by the signal."""

    def __init__(self) -> None:
        self._read, write = os.pipe()
        os.set_blocking(write, False)
        signal.set_wakeup_fd(write)
        signal.signal(signal.SIGTERM, lambda *_: None)  # a handler, so the fd hears of it

    def wait(self, seconds: float) -> bool:
        """True once SIGTERM arrived (now or before)."""
        if select.select([self._read], [], [], seconds)[0]:
            return signal.SIGTERM in os.read(self._read, 512)
        return False


def _write_state(data_dir: Path, port: int, server_pid: int) -> None:
    tmp = data_dir / (STATE_FILE + ".tmp")
    state = {"port": port, "supervisor_pid": os.getpid(), "server_pid": server_pid}
    tmp.write_text(json.dumps(state))
    tmp.replace(data_dir / STATE_FILE)


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
    poll = float(os.environ.get("NEWSDIFF_EMBEDDED_POLL_SECONDS") or min(5.0, idle / 2))
    sys.exit(supervise(Path(sys.argv[1]), idle_seconds=idle, poll=poll))
