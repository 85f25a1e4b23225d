"""scrapy schedule: start, on its Scrapyd node, each outlet whose interval has passed.

Meant for cron or a systemd timer every minute or few (deploy/). Outlets, intervals and nodes are
NEWSDIFF_SCHEDULE and NEWSDIFF_NODES (newsdiff/nodes.py). Exits non-zero when a node could not be
asked or refused a job; the other nodes are still served.
"""

from __future__ import annotations

import sys
from datetime import datetime

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.nodes import (
    Node,
    NodeError,
    ScheduleConfigError,
    decide,
    json_setting,
    plans,
    shared_outlets,
)


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self):
        return "[options] [OUTLET ...]"

    def short_desc(self):
        return "Schedule due outlets on their Scrapyd nodes (for cron or a systemd timer)"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--dry-run", action="store_true", help="print the decisions, schedule nothing"
        )

    def run(self, args, opts):
        try:
            nodes_conf = json_setting(self.settings, "NEWSDIFF_NODES")
            outlet_plans = plans(json_setting(self.settings, "NEWSDIFF_SCHEDULE"), nodes_conf)
        except ScheduleConfigError as exc:  # one line, like a bad NEWSDIFF_* in the environment
            print(f"newsdiff: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        if not self.settings.get("NEWSDIFF_REDIS_URL"):
            for outlet, names in shared_outlets(outlet_plans).items():
                print(
                    f"warning: {outlet} is on nodes {', '.join(names)} without NEWSDIFF_REDIS_URL: "
                    "each will fetch the same pages (give it one node, or set NEWSDIFF_REDIS_URL)",
                    file=sys.stderr,
                )
        if args:
            unknown = set(args) - {p.outlet for p in outlet_plans}
            if unknown:
                raise UsageError(f"not in NEWSDIFF_SCHEDULE: {', '.join(sorted(unknown))}")
            outlet_plans = [p for p in outlet_plans if p.outlet in args]
        failed = False
        for name in sorted({p.node for p in outlet_plans}):
            node = Node(name, nodes_conf[name])
            try:
                jobs = node.jobs()
            except NodeError as exc:
                print(f"{name}: cannot list jobs: {exc}")
                failed = True
                continue
            now = datetime.now()  # Scrapyd reports its jobs' times in local time
            for plan in (p for p in outlet_plans if p.node == name):
                decision = decide(plan.outlet, plan.every, jobs, now)
                if not decision.schedule or opts.dry_run:
                    verb = "due" if decision.schedule else "skipped"
                    print(f"{plan.outlet} on {name}: {verb}, {decision.reason}")
                    continue
                try:
                    job = node.schedule(plan.outlet, plan.args, plan.settings)
                except NodeError as exc:
                    print(f"{plan.outlet} on {name}: not scheduled: {exc}")
                    failed = True
                    continue
                print(f"{plan.outlet} on {name}: scheduled job {job}, {decision.reason}")
        if failed:
            self.exitcode = 1
