"""Secrets come only from the environment or ignored local files, and every server newsdiff
starts by default listens on 127.0.0.1 only."""

from __future__ import annotations

import argparse
import configparser
import os
import re
import subprocess
from pathlib import Path

import pytest

from newsdiff import settings as project
from newsdiff.replay import ReplayServer
from newsdiff.store.embedded import start_server, terminate_server
from tests.conftest import ROOT

# Values that stand for a secret without being one.
PLACEHOLDER = re.compile(r"^(\$?\{\w+\}|\$\w+|CHANGE-ME|<[^>]*>|\*+|x+|\.\.\.|password|)$", re.I)
URI_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"<>]+:([^\s/@'\"<>]+)@", re.I)
ASSIGNED_SECRET = re.compile(
    r"""(?ix)(?<![a-z])(password|passwd|secret|api[_-]?key|token)(?![a-z])\s*[:=]\s*
    (?P<q>["']?)(?P<value>[^\s"',;)]*)(?P=q)"""
)
KEY_MATERIAL = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b"
)
# Local files that may hold secrets; .gitignore must keep them out of the repository.
# Known literals that are not secrets: (file, match) -> why.
ALLOWED = {
    ("tests/scrapyd_env.py", 'PASSWORD = "newsdiff"'): "a throwaway Scrapyd the tests start",
}
LOCAL_SECRET_FILES = [".env", ".env.local", "deploy/env", "secrets.toml", "newsdiff.key"]


def tracked_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    return [ROOT / n for n in names if n and (ROOT / n).is_file()]


def secrets_in(text: str, code: bool = False) -> list[str]:
    """Literal secrets in a file's text. In code (code=True) an unquoted value is an expression
    (a variable, os.environ[...]), not a literal."""
    found = [m[0] for m in KEY_MATERIAL.finditer(text)]
    found += [m[0] for m in URI_PASSWORD.finditer(text) if not PLACEHOLDER.match(m[1])]
    for m in ASSIGNED_SECRET.finditer(text):
        if PLACEHOLDER.match(m["value"]) or (code and not m["q"]):
            continue
        found.append(m[0])
    return found


@pytest.mark.parametrize(
    "text, leaks",
    [
        ("NEWSDIFF_MONGO_URI=mongodb://newsdiff:hunter2xyz@db:27017/newsdiff", True),
        ("uri = 'mongodb+srv://admin:S3cr3tPass@cluster0.example.net/'", True),
        ("password = correcthorsebattery", True),
        ('SCRAPYD_PASSWORD: "p4ssw0rd!"', True),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", True),
        ("password = ${SCRAPYD_PASSWORD}", False),
        ("mongodb://newsdiff:CHANGE-ME@127.0.0.1:27017/newsdiff", False),
        ("mongodb://127.0.0.1:27017/?directConnection=true", False),
        ("f'password = {PASSWORD}'", False),
        ("password=password", False),
    ],
)
def test_the_scanner_finds_what_it_should(text, leaks):
    assert bool(secrets_in(text)) == leaks
    if not leaks:
        assert secrets_in(text, code=True) == []


def test_code_that_reads_a_secret_is_not_one():
    assert secrets_in('password = os.environ.get("SCRAPYD_PASSWORD", "")', code=True) == []
    assert secrets_in('password = "hunter2hunter2"', code=True)


def test_no_credentials_in_tracked_files():
    leaks = []
    for path in tracked_files():
        data = path.read_bytes()
        if path == Path(__file__).resolve() or b"\0" in data[:8192]:  # its examples, binaries
            continue  # binary
        code = path.suffix in (".py", ".html", ".js", ".css")
        for hit in secrets_in(data.decode("utf-8", "replace"), code=code):
            name = path.relative_to(ROOT).as_posix()
            if (name, hit) not in ALLOWED:
                leaks.append(f"{name}: {hit}")
    assert leaks == []


# Strict: once .gitignore has the lines (.env, .env.*, !.env.example, /deploy/env, secrets.toml,
# *.key) this passes, fails as XPASS, and the marker goes.
def test_local_secret_files_are_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *LOCAL_SECRET_FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert sorted(ignored) == sorted(LOCAL_SECRET_FILES)


def test_settings_take_deployment_values_from_the_environment(monkeypatch):
    assert project.NEWSDIFF_MONGO_URI == "" or "NEWSDIFF_MONGO_URI" in os.environ
    source = (ROOT / "newsdiff" / "settings.py").read_text()
    assert 'os.environ.get("NEWSDIFF_MONGO_URI"' in source
    assert project.TELNETCONSOLE_ENABLED is False
    assert project.REMOTE_CONTROL_ENABLED is False


# --- default bindings ---------------------------------------------------------------------------


def listening(port: int) -> set[str]:
    """Local addresses of the sockets listening on a TCP port (Linux /proc/net)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    addresses.add(".".join(str(b) for b in bytes.fromhex(address)[::-1]))
                else:
                    addresses.add(address)  # IPv6: any value here is a failure below
    return addresses


def test_replay_server_listens_on_loopback(tmp_path):
    server = ReplayServer(tmp_path).start()
    try:
        assert listening(server.server_address[1]) == {"127.0.0.1"}
    finally:
        server.stop()


def test_embedded_secantusdb_listens_on_loopback(tmp_path):
    proc, port = start_server(tmp_path / "db")
    try:
        assert listening(port) == {"127.0.0.1"}
    finally:
        terminate_server(proc, port)


def command_defaults(module: str) -> argparse.Namespace:
    import importlib

    from scrapy.settings import Settings

    command = importlib.import_module(f"newsdiff.commands.{module}").Command()
    command.settings = Settings()
    parser = argparse.ArgumentParser()
    command.add_options(parser)
    return parser.parse_args([])


def test_scrapy_serve_defaults_to_loopback():
    assert command_defaults("serve").host == "127.0.0.1"


def test_scrapy_replay_and_demo_serve_on_loopback():
    for module in ("replay", "demo"):
        source = (ROOT / "newsdiff" / "commands" / f"{module}.py").read_text()
        assert "0.0.0.0" not in source
        assert re.search(r"ReplayServer\([^)]*host=", source) is None  # the loopback default


def test_shipped_scrapyd_and_node_defaults_are_loopback():
    conf = configparser.ConfigParser()
    conf.read(ROOT / "deploy" / "scrapyd.conf")
    assert conf["scrapyd"]["bind_address"] == "127.0.0.1"
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "scrapy.cfg")
    assert cfg["deploy"]["url"].startswith("http://127.0.0.1:")
    for section in cfg.sections():
        if section.startswith("deploy"):
            for key in ("username", "password"):
                assert cfg[section].get(key, "").startswith("${"), (section, key)
    if not os.environ.get("NEWSDIFF_NODES"):
        for url in project.NEWSDIFF_NODES.values():
            assert re.match(r"https?://127\.0\.0\.1[:/]", url), url
