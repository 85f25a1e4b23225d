"""Helpers for tests that run a real Scrapyd: its own virtual environment, a server, the API.

Scrapyd 1.6 imports pkg_resources (setuptools<81), so it lives in a venv of its own, separate from
the project's. The venv is built once per set of requirements and cached under
$NEWSDIFF_SCRAPYD_VENV_CACHE (default ~/.cache/newsdiff). Create it ahead of the tests with
`python -m tests.scrapyd_env` (prints its path).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Installed next to newsdiff's runtime requirements (Scrapyd imports the project from the egg,
# its dependencies from this venv).
SCRAPYD_REQUIREMENTS = ["scrapyd==1.6.0", "scrapyd-client==2.0.3", "setuptools<81"]
USERNAME, PASSWORD = "newsdiff", "test-secret"


def venv_key() -> str:
    text = "\n".join(SCRAPYD_REQUIREMENTS) + (ROOT / "requirements.txt").read_text()
    return hashlib.sha256(f"{sys.version_info[:2]}\n{text}".encode()).hexdigest()[:12]


def venv_dir() -> Path:
    cache = os.environ.get("NEWSDIFF_SCRAPYD_VENV_CACHE") or Path.home() / ".cache" / "newsdiff"
    return Path(cache) / f"scrapyd-venv-{venv_key()}"


def ensure_venv() -> Path:
    """The Scrapyd venv's directory, created (with a marker written last) if missing."""
    venv = venv_dir()
    if (venv / ".complete").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *SCRAPYD_REQUIREMENTS, "-r", str(ROOT / "requirements.txt")], check=True)
    (venv / ".complete").write_text(venv_key())
    return venv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_checkout(workdir: Path) -> Path:
    """A copy of the checkout to build the egg in (the build leaves files behind)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(
        ROOT,
        workdir,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "artifacts", "demo-site", "build", "*.egg-info", "__pycache__"
        ),
        symlinks=True,
    )
    return workdir


def build_egg(venv: Path, workdir: Path) -> Path:
    """The project's egg, built once with `scrapyd-deploy --build-egg` in a copy of the checkout
    and deployed to many nodes (each build takes seconds)."""
    egg = copy_checkout(workdir) / "newsdiff.egg"
    out = subprocess.run(
        [str(venv / "bin" / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return egg


class Scrapyd:
    """A Scrapyd process on 127.0.0.1 with basic auth and every directory under `home`."""

    def __init__(self, venv: Path, home: Path, env: dict[str, str] | None = None):
        self.venv, self.home = venv, home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        home.mkdir(parents=True, exist_ok=True)
        dirs = {name: home / name for name in ("eggs", "logs", "dbs", "items")}
        for path in dirs.values():
            path.mkdir(exist_ok=True)
        (home / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            f"username = {USERNAME}\n"
            f"password = {PASSWORD}\n"
            + "".join(f"{name}_dir = {path}\n" for name, path in dirs.items())
            + "poll_interval = 0.2\n"
            "max_proc = 4\n"
        )
        self.log = (home / "scrapyd.out").open("wb")
        # Scrapyd reads ./scrapyd.conf; the jobs inherit this environment.
        self.proc = subprocess.Popen(
            [str(venv / "bin" / "scrapyd")],
            cwd=home,
            env={**os.environ, **(env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scrapyd exited: {(self.home / 'scrapyd.out').read_text()}")
            try:
                if self.get("daemonstatus.json")["status"] == "ok":
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise TimeoutError(f"scrapyd on {self.url} did not start")

    def _request(self, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict:
        url = self.url + endpoint
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)
        token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def get(self, endpoint: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._request(endpoint + query)

    def post(self, endpoint: str, data: list[tuple[str, str]]) -> dict:
        return self._request(endpoint, data)

    def deploy(self, version: str = "1.0.0", egg: Path | None = None) -> dict:
        """scrapyd-deploy from a copy of the checkout whose scrapy.cfg targets this server; with
        `egg` (from build_egg), that egg instead of building another one."""
        workdir = egg.parent if egg else copy_checkout(self.home / "deploy")
        env = {
            **os.environ,
            "SCRAPYD_URL": self.url,
            "SCRAPYD_USERNAME": USERNAME,
            "SCRAPYD_PASSWORD": PASSWORD,
        }
        out = subprocess.run(
            [str(self.venv / "bin" / "scrapyd-deploy"), "remote", "-v", version]
            + (["--egg", str(egg)] if egg else []),
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    def schedule(self, spider: str, *, settings: dict[str, str] | None = None, **args: str) -> str:
        data = [("project", "newsdiff"), ("spider", spider), *args.items()]
        data += [("setting", f"{k}={v}") for k, v in (settings or {}).items()]
        answer = self.post("schedule.json", data)
        assert answer["status"] == "ok", answer
        return answer["jobid"]

    def wait_finished(self, job: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get("status.json", job=job).get("currstate") == "finished":
                return
            time.sleep(0.2)
        raise TimeoutError(f"job {job} did not finish")

    def job_log(self, spider: str, job: str) -> str:
        return (self.home / "logs" / "newsdiff" / spider / f"{job}.log").read_text()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        self.log.close()


if __name__ == "__main__":
    print(ensure_venv())


# --- what the Scrapyd tests share ---------------------------------------------------------


def node_env(site, mongo_uri, db_name, data_dir, **more) -> dict[str, str]:
    """A node's environment: the jobs read their settings from it, as on a server."""
    return {
        "NEWSDIFF_MONGO_URI": mongo_uri,
        "NEWSDIFF_MONGO_DB": db_name,
        "NEWSDIFF_DATA_DIR": str(data_dir),
        "NEWSDIFF_HOST_MAP": json.dumps(site.host_map()),
        **more,
    }


def scrapy_schedule(nodes: dict[str, Scrapyd], schedule: dict, *args: str):
    from tests.conftest import scrapy_command  # conftest imports this module

    env = {
        **os.environ,
        "NEWSDIFF_NODES": json.dumps({name: node.url for name, node in nodes.items()}),
        "NEWSDIFF_SCHEDULE": json.dumps(schedule),
        "SCRAPYD_USERNAME": USERNAME,
        "SCRAPYD_PASSWORD": PASSWORD,
    }
    return scrapy_command("schedule", *args, env=env)


def jobs_of(node: Scrapyd) -> dict[str, list[dict]]:
    return node.get("listjobs.json", project="newsdiff")
