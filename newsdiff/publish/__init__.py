"""Publishing what changed: targets from NEWSDIFF_PUBLISH, the outbox, diff pictures.

The StorePipeline asks `matching()` which targets want a new version and writes their names with
the version (newsdiff.store.outbox collects them); `scrapy publish` (newsdiff.publish.deliver)
delivers. Nothing here reads a secret: targets name environment variables, read at delivery.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from newsdiff import text

KINDS = {
    # kind -> (required keys, the key naming the secret's environment variable)
    "webhook": ((), "secret_env"),  # and url, or url_env when the URL holds a token
    "mastodon": (("instance", "token_env"), "token_env"),
    "bluesky": (("service", "handle", "password_env"), "password_env"),
    "wayback": ((), "key_env"),
}
ALL_LABELS = ("first", "change", "trivial", "flip-flop")
DEFAULT_LABELS = ("change",)  # trivial edits and flip-flops are not told unless asked
WAYBACK_ENDPOINT = "https://web.archive.org"


class PublishConfigError(ValueError):
    """NEWSDIFF_PUBLISH is not a list of valid targets."""


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    options: Mapping[str, Any]
    outlets: frozenset[str] | None  # None: every outlet
    labels: frozenset[str]
    fields: frozenset[str] | None  # None: any changed field
    per_hour: int | None  # at most this many deliveries in any hour
    max_tries: int

    def wants(self, version: Mapping[str, Any]) -> bool:
        """Whether a new version (outlet, label, changed fields) is for this target."""
        if self.outlets is not None and version.get("outlet") not in self.outlets:
            return False
        if version.get("label") not in self.labels:
            return False
        return self.fields is None or bool(self.fields & set(version.get("changed") or ()))

    def secret(self, key: str | None = None) -> str | None:
        """The value of the environment variable named by option `key` (default: the kind's
        secret); None when the target names none."""
        variable = self.options.get(key or KINDS[self.kind][1])
        if not variable:
            return None
        value = os.environ.get(variable)
        if not value:
            raise PublishConfigError(
                f"target {self.name}: environment variable {variable} is unset"
            )
        return value

    def check(self) -> None:
        """Raises PublishConfigError when an environment variable the target names is unset."""
        for key in self.options:
            if key.endswith("_env"):
                self.secret(key)

    def secrets(self) -> list[str]:
        """Every secret value the target names (for keeping them out of messages)."""
        names = [v for k, v in self.options.items() if k.endswith("_env") and v]
        return [os.environ[n] for n in names if os.environ.get(n)]

    def url(self) -> str:
        """A webhook's URL; `url_env` keeps one that embeds a token (Discord, Slack) secret."""
        return self.options.get("url") or self.secret("url_env") or ""


def _names(value: Any, what: str, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise PublishConfigError(f"target {name}: {what} must be a list of strings")
    return frozenset(map(str, value))


def parse_targets(raw: Any, *, max_tries: int = 12) -> list[Target]:
    """Targets from NEWSDIFF_PUBLISH (a list, or its JSON text)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            raise PublishConfigError(f"NEWSDIFF_PUBLISH is not JSON: {exc}") from None
    if not isinstance(raw, Sequence):
        raise PublishConfigError("NEWSDIFF_PUBLISH must be a JSON list of targets")
    targets: list[Target] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or item.get("type") not in KINDS:
            raise PublishConfigError(
                f"NEWSDIFF_PUBLISH[{i}]: type must be one of {', '.join(KINDS)}"
            )
        kind = item["type"]
        name = str(item.get("name") or kind)
        missing = [k for k in KINDS[kind][0] if not item.get(k)]
        if kind == "webhook" and not (item.get("url") or item.get("url_env")):
            missing.append("url or url_env")
        if missing:
            raise PublishConfigError(f"target {name} ({kind}) needs {', '.join(missing)}")
        if any(t.name == name for t in targets):
            raise PublishConfigError(f"two targets are named {name}: give each a distinct name")
        labels = _names(item.get("labels"), "labels", name)
        if labels is None:
            labels = frozenset(ALL_LABELS if kind == "wayback" else DEFAULT_LABELS)
        if unknown := labels - set(ALL_LABELS):
            raise PublishConfigError(f"target {name}: unknown labels {sorted(unknown)}")
        fields = _names(item.get("fields"), "fields", name)
        if fields and (unknown := fields - set(text.HASHED_FIELDS)):
            known = ", ".join(text.HASHED_FIELDS)
            raise PublishConfigError(f"target {name}: unknown fields {sorted(unknown)} ({known})")
        per_hour = item.get("per_hour")
        if per_hour is not None and (not isinstance(per_hour, int) or per_hour < 1):
            raise PublishConfigError(f"target {name}: per_hour must be a positive integer")
        targets.append(
            Target(
                name=name,
                kind=kind,
                options={k: v for k, v in item.items() if k not in {"labels", "outlets"}},
                outlets=_names(item.get("outlets"), "outlets", name),
                labels=labels,
                fields=fields,
                per_hour=per_hour,
                max_tries=int(item.get("max_tries") or max_tries),
            )
        )
    return targets


def targets_from_settings(settings: Any) -> list[Target]:
    return parse_targets(
        settings.get("NEWSDIFF_PUBLISH") or [],
        max_tries=int(settings.get("NEWSDIFF_PUBLISH_MAX_TRIES") or 12),
    )


def matching(targets: Sequence[Target], version: Mapping[str, Any]) -> list[str]:
    """Names of the targets a new version is for."""
    return [t.name for t in targets if t.wants(version)]
