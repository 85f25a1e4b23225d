"""Scheduled crawls on Scrapyd nodes: which outlet runs where and when (used by `scrapy schedule`).

Configuration (settings, see newsdiff/settings.py):
- NEWSDIFF_NODES: node name -> Scrapyd URL. A node's credentials come from the environment:
  NEWSDIFF_NODE_<NAME>_USERNAME / _PASSWORD, else SCRAPYD_USERNAME / SCRAPYD_PASSWORD.
- NEWSDIFF_SCHEDULE: outlet -> {"every": "20m", "node": "default", "args": {}, "settings": {}};
  `every` takes s, m, h or d; `args` are spider arguments (e.g. {"mode": "discover"}), `settings`
  Scrapy settings for the job (schedule.json's `setting=K=V`). A list of nodes ("node": ["a",
  "b"]) starts the outlet on each of them: only for the shared-queue mode (NEWSDIFF_REDIS_URL),
  where they share the work; otherwise they would fetch the same pages.

An outlet is due when its last job on its node started at least `every` ago (or it never ran), and
it is never scheduled while a job of it is pending or running there. decide() is pure; Scrapyd is
the only memory, so keep finished jobs across restarts (jobstorage = SqliteJobStorage).
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from newsdiff.durations import duration

PROJECT = "newsdiff"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScheduleConfigError(ValueError):
    """A JSON setting (NEWSDIFF_NODES, _SCHEDULE, _HOST_MAP) is invalid; the message names it."""


class NodeError(Exception):
    """A Scrapyd node could not be reached or answered with an error."""


def parse_interval(text: str) -> timedelta:
    match = _INTERVAL.match(str(text))
    if not match or float(match[1]) <= 0:
        raise ScheduleConfigError(f"interval {text!r} is not like 20m, 2h, 1d or 90s")
    return timedelta(**{_UNITS[match[2]]: float(match[1])})


@dataclass(frozen=True)
class OutletPlan:
    outlet: str
    every: timedelta
    node: str
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)


def plans(schedule: Mapping[str, Any], nodes: Mapping[str, str]) -> list[OutletPlan]:
    """The outlets to schedule, checked against the nodes."""
    result = []
    for outlet, entry in schedule.items():
        if isinstance(entry, str):  # "nytimes": "20m" is short for {"every": "20m"}
            entry = {"every": entry}
        if not isinstance(entry, Mapping) or "every" not in entry:
            raise ScheduleConfigError(f"NEWSDIFF_SCHEDULE[{outlet!r}] needs an 'every' interval")
        unknown = set(entry) - {"every", "node", "args", "settings"}
        if unknown:
            raise ScheduleConfigError(f"NEWSDIFF_SCHEDULE[{outlet!r}]: unknown keys {unknown}")
        node = entry.get("node", "default")
        names = [node] if isinstance(node, str) else node
        if not isinstance(names, list) or not names:
            raise ScheduleConfigError(
                f"NEWSDIFF_SCHEDULE[{outlet!r}]: node must be a node name or a list of them"
            )
        for name in names:
            if name not in nodes:
                raise ScheduleConfigError(
                    f"NEWSDIFF_SCHEDULE[{outlet!r}]: node {name!r} is not in NEWSDIFF_NODES"
                )
        for key in ("args", "settings"):
            if not isinstance(entry.get(key) or {}, Mapping):
                raise ScheduleConfigError(f"NEWSDIFF_SCHEDULE[{outlet!r}]: {key} must be an object")
        args = {str(k): str(v) for k, v in (entry.get("args") or {}).items()}
        settings = {str(k): str(v) for k, v in (entry.get("settings") or {}).items()}
        try:
            every = parse_interval(entry["every"])
        except ScheduleConfigError as exc:
            raise ScheduleConfigError(f"NEWSDIFF_SCHEDULE[{outlet!r}]: {exc}") from exc
        result += [OutletPlan(outlet, every, name, args, settings) for name in dict.fromkeys(names)]
    return result


def json_setting(settings: Any, name: str) -> dict[str, Any]:
    """A JSON-object setting (from the environment, -s or a job's setting=), checked."""
    value = settings.get(name) or {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ScheduleConfigError(f"the setting {name} is not valid JSON ({exc})") from exc
    if not isinstance(value, Mapping):
        kind = type(value).__name__
        raise ScheduleConfigError(f"the setting {name} must be a JSON object ({{...}}), not {kind}")
    value = dict(value)
    if name == "NEWSDIFF_NODES":
        for node, url in value.items():
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ScheduleConfigError(f"NEWSDIFF_NODES[{node!r}] is not an http(s) URL")
    return value


def shared_outlets(outlet_plans: list[OutletPlan]) -> dict[str, list[str]]:
    """Outlets planned on more than one node, with their nodes."""
    nodes: dict[str, list[str]] = {}
    for plan in outlet_plans:
        nodes.setdefault(plan.outlet, []).append(plan.node)
    return {outlet: names for outlet, names in nodes.items() if len(names) > 1}


@dataclass(frozen=True)
class Job:
    """One Scrapyd job of an outlet, as listjobs.json reports it."""

    spider: str
    state: str  # pending | running | finished
    id: str = ""
    start_time: datetime | None = None


@dataclass(frozen=True)
class Decision:
    outlet: str
    schedule: bool
    reason: str


def decide(outlet: str, every: timedelta, jobs: list[Job], now: datetime) -> Decision:
    """Whether to start the outlet now, given its node's jobs and the node's local time."""
    mine = [j for j in jobs if j.spider == outlet]
    for job in mine:
        if job.state in ("pending", "running"):
            return Decision(outlet, False, f"already {job.state} (job {job.id})")
    starts = [j.start_time for j in mine if j.start_time is not None]
    if not starts:
        return Decision(outlet, True, "no earlier job")
    last = max(starts)
    if now - last >= every:
        return Decision(outlet, True, f"last started {duration(now - last)} ago")
    return Decision(outlet, False, f"not due for {duration(last + every - now)}")


def jobs_from_listing(listing: Mapping[str, Any]) -> list[Job]:
    """listjobs.json's pending, running and finished lists as Jobs."""
    jobs = []
    for state in ("pending", "running", "finished"):
        for entry in listing.get(state, []):
            start = entry.get("start_time")
            jobs.append(
                Job(
                    spider=entry["spider"],
                    state=state,
                    id=entry.get("id", ""),
                    # Scrapyd writes the node's local time without a zone.
                    start_time=datetime.fromisoformat(start) if start else None,
                )
            )
    return jobs


class Node:
    """A Scrapyd node's JSON API, with HTTP Basic credentials from the environment."""

    def __init__(self, name: str, url: str, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        self.name, self.url = name, url.rstrip("/") + "/"
        key = re.sub(r"\W", "_", name).upper()
        prefix = f"NEWSDIFF_NODE_{key}_" if env.get(f"NEWSDIFF_NODE_{key}_USERNAME") else "SCRAPYD_"
        user, password = env.get(prefix + "USERNAME", ""), env.get(prefix + "PASSWORD", "")
        self._auth = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user else None
        )

    def call(self, endpoint: str, data: list[tuple[str, str]] | None = None, **params) -> dict:
        url = self.url + endpoint + (f"?{urllib.parse.urlencode(params)}" if params else "")
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as exc:
            raise NodeError(f"{self.name} ({self.url}): HTTP {exc.code} from {endpoint}") from exc
        except (OSError, ValueError) as exc:
            raise NodeError(f"{self.name} ({self.url}): {exc}") from exc
        if answer.get("status") != "ok":
            raise NodeError(f"{self.name} ({self.url}): {answer.get('message', answer)}")
        return answer

    def jobs(self) -> list[Job]:
        return jobs_from_listing(self.call("listjobs.json", project=PROJECT))

    def schedule(
        self, spider: str, args: Mapping[str, str], settings: Mapping[str, str] | None = None
    ) -> str:
        data = [("project", PROJECT), ("spider", spider), *args.items()]
        data += [("setting", f"{k}={v}") for k, v in (settings or {}).items()]
        return self.call("schedule.json", data)["jobid"]
