"""deploy/env.example as systemd, cron and a shell read it; bad JSON settings are clear errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, scrapy_command

ENV_EXAMPLE = ROOT / "deploy" / "env.example"
JSON_SETTINGS = ("NEWSDIFF_NODES", "NEWSDIFF_SCHEDULE", "NEWSDIFF_HOST_MAP")


def systemd_environment_file(text: str) -> dict[str, str]:
    """EnvironmentFile= as systemd.exec(5) reads it: comments, quotes, backslash escapes."""
    env: dict[str, str] = {}
    for line in re.sub(r"\\\n", "", text).splitlines():  # a trailing backslash joins lines
        line = line.lstrip()
        if not line or line[0] in "#;":
            continue
        key, sep, rest = line.partition("=")
        assert sep, f"not an assignment: {line!r}"
        value, i, quote, trailing = [], 0, None, ""
        rest = rest.lstrip()
        while i < len(rest):
            c = rest[i]
            if quote == "'":
                quote, _ = (None, None) if c == "'" else (quote, value.append(c))
            elif quote == '"':
                if c == "\\" and i + 1 < len(rest) and rest[i + 1] in '"\\`$':
                    i += 1
                    value.append(rest[i])
                elif c == '"':
                    quote = None
                else:
                    value.append(c)
            elif c in "'\"":
                value.append(trailing)
                quote, trailing = c, ""
            elif c.isspace():
                trailing += c  # kept only if more text follows
            else:
                if c == "\\" and i + 1 < len(rest):
                    i += 1
                    c = rest[i]
                value.append(trailing + c)
                trailing = ""
            i += 1
        env[key.strip()] = "".join(value)
    return env


def bash_environment_file(path: Path) -> dict[str, str]:
    """The variables `set -a; . FILE; set +a` exports, as the README and the crontab load it."""
    script = 'set -a; . "$1"; set +a; env -0'
    out = subprocess.run(
        ["bash", "-c", script, "bash", str(path)],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert not out.stderr, out.stderr  # bash says "No such file or directory" and goes on
    pairs = (item.partition("=") for item in out.stdout.split("\0") if item)
    return {k: v for k, _, v in pairs if k.startswith(("NEWSDIFF_", "SCRAPYD_"))}


@pytest.mark.parametrize("uncomment", [False, True], ids=["as-shipped", "alternatives-on"])
def test_env_example_reads_the_same_in_bash_and_systemd(tmp_path, uncomment):
    text = ENV_EXAMPLE.read_text()
    if uncomment:  # the commented-out alternatives an operator switches on
        text = re.sub(r"(?m)^#(?=[A-Z_]+=)", "", text)
    env_file = tmp_path / "env"
    env_file.write_text(text)
    systemd = systemd_environment_file(text)
    assert bash_environment_file(env_file) == systemd
    assert systemd["NEWSDIFF_MONGO_URI"].startswith("mongodb://")
    names = {"NEWSDIFF_NODES", "NEWSDIFF_SCHEDULE"} if uncomment else {"NEWSDIFF_NODES"}
    for name in names:
        assert isinstance(json.loads(systemd[name]), dict), name


def test_systemd_parser_follows_the_documented_rules():
    text = (
        "# comment\n; also a comment\n  A=plain value  \nB='single \"q\" $HOME \\n'\n"
        'C="double \\"q\\" \\$x"\nD=one\\\ntwo\nE=\'a\'b"c"\n'
    )
    assert systemd_environment_file(text) == {
        "A": "plain value",
        "B": 'single "q" $HOME \\n',
        "C": 'double "q" $x',
        "D": "onetwo",
        "E": "abc",
    }


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDIFF_")}
    return {**env, "NEWSDIFF_REDIS_URL": "", **values}


@pytest.mark.parametrize("name", JSON_SETTINGS)
@pytest.mark.parametrize("bad", ['{"default": ', '["a"]', "{'a': 1}"])
def test_a_bad_json_setting_is_one_line_and_exit_status_2(name, bad):
    result = scrapy_command("schedule", "--dry-run", env=_env(**{name: bad}))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"newsdiff: the setting {name} "), line


def test_a_bad_json_setting_stops_a_crawl_too():
    result = scrapy_command("crawl", "nytimes", env=_env(NEWSDIFF_HOST_MAP="{www.nytimes.com: 1}"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newsdiff: the setting NEWSDIFF_HOST_MAP is not valid JSON (Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1)); in a shell or env file, "
        "single-quote the value"
    ]


def test_a_bad_json_option_stops_a_crawl():
    result = scrapy_command("crawl", "nytimes", "-s", "NEWSDIFF_HOST_MAP=[1]", env=_env())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newsdiff: the setting NEWSDIFF_HOST_MAP must be a JSON object ({...}), not list"
    ]


@pytest.mark.parametrize(
    "option, message",
    [
        ('NEWSDIFF_SCHEDULE={"nytimes": ', "the setting NEWSDIFF_SCHEDULE is not valid JSON"),
        ('NEWSDIFF_NODES=["a"]', "NEWSDIFF_NODES must be a JSON object ({...}), not list"),
        ('NEWSDIFF_SCHEDULE={"nytimes": "3x"}', "NEWSDIFF_SCHEDULE['nytimes']: interval '3x'"),
        ('NEWSDIFF_SCHEDULE={"nytimes": {"every": "1h", "args": 1}}', "args must be an object"),
        ('NEWSDIFF_NODES={"default": 6800}', "NEWSDIFF_NODES['default'] is not an http(s) URL"),
    ],
)
def test_bad_schedule_options_are_one_line_and_exit_status_2(option, message):
    result = scrapy_command("schedule", "--dry-run", "-s", option, env=_env())
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("newsdiff: ") and message in line, line


def test_an_outlet_on_several_nodes_without_redis_is_warned_about():
    nobody = "http://127.0.0.1:9/"  # a port nobody listens on
    env = _env(
        NEWSDIFF_NODES=json.dumps({"a": nobody, "b": nobody, "default": nobody}),
        NEWSDIFF_SCHEDULE=json.dumps({"nytimes": {"every": "2m", "node": ["a", "b"]}, "bbc": "1h"}),
    )
    result = scrapy_command("schedule", "--dry-run", env=env)
    assert result.returncode == 1  # the nodes are unreachable
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: nytimes is on nodes a, b without NEWSDIFF_REDIS_URL: each will fetch the same "
        "pages (give it one node, or set NEWSDIFF_REDIS_URL)"
    ]
    env["NEWSDIFF_REDIS_URL"] = "redis://127.0.0.1:9/0"
    assert "warning:" not in scrapy_command("schedule", "--dry-run", env=env).stderr
