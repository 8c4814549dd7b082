"""Load test: support managers reading KPIs while cases are created and worked.

Run through ``python3 dev.py load`` (bench/load.py), which starts gunicorn, writes the
configuration this file reads (``BENCH_LOAD_CONFIG``: API tokens of the admin and of each
team's manager, the teams, a category, the run's case source) and runs locust headless.

Each simulated user is the admin (a third of them) or one team's manager, chosen at start.
Between requests it pauses ``BENCH_LOAD_WAIT`` seconds (a range, default 0.5–2; "0" for
none). It either:

- reads a KPI over the last 90 days (backlog, backlog per rep, case load, response and
  resolution time, FCR, CSAT, seasonality, repeat contacts, queue); the admin filters to
  one team half of the time, a manager always sees their own team; or
- (one time in five) writes: creates a case in its team, assigned to one of the team's reps,
  then records an agent response on it, or resolves it (which starts a survey).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import HttpUser, between, constant, task

CONFIG: dict[str, Any] = json.loads(open(os.environ["BENCH_LOAD_CONFIG"]).read())  # noqa: SIM115
READS = (
    "backlog",
    "backlog/reps",
    "load",
    "response-time",
    "resolution-time",
    "fcr",
    "csat",
    "seasonality",
    "repeat-contacts",
    "queue",
)
_numbers = itertools.count(1)


def _wait() -> Any:
    low, _, high = os.environ.get("BENCH_LOAD_WAIT", "0.5-2").partition("-")
    return constant(float(low)) if not high else between(float(low), float(high))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SupportUser(HttpUser):
    wait_time = _wait()

    def on_start(self) -> None:
        admin = {"token": CONFIG["admin"], "team": None, "reps": CONFIG["all_reps"]}
        # A third are the admin (every team, filtered to one half of the time), the others a
        # manager of a random team (always their own team's figures).
        managers = CONFIG["managers"]
        self.persona = admin if not managers or random.random() < 1 / 3 else random.choice(managers)
        self.client.headers["Authorization"] = f"Token {self.persona['token']}"

    @task(4)
    def read_kpi(self) -> None:
        endpoint = random.choice(READS)
        params: dict[str, Any] = {"last_days": 90}
        name = f"GET metrics/{endpoint}"
        if self.persona["team"] is None and random.random() < 0.5:
            params["team"] = random.choice(CONFIG["teams"])
            name += " (team)"
        elif self.persona["team"] is not None:
            name += " (manager)"
        self.client.get(f"/api/v1/metrics/{endpoint}/", params=params, name=name)

    @task(1)
    def write_case(self) -> None:
        now = datetime.now(UTC)
        rep = random.choice(self.persona["reps"])
        created = self.client.post(
            "/api/v1/cases/",
            json={
                "source": CONFIG["source"],
                "external_id": f"L-{os.getpid()}-{next(_numbers)}",
                "category": CONFIG["category"],
                "channel": random.choice(["email", "chat", "phone", "web_form"]),
                "priority": random.choice(["low", "normal", "normal", "high"]),
                "subject": "Load test case",
                "requester_email": f"load{random.randrange(10_000)}@example.org",
                "assignee": rep,
                "opened_at": _iso(now - timedelta(minutes=random.randrange(5, 48 * 60))),
            },
            name="POST cases",
        )
        if created.status_code != 201:
            return
        event = "resolved" if random.random() < 0.3 else "agent_response"
        self.client.post(
            f"/api/v1/cases/{created.json()['id']}/events/",
            json={"event_type": event, "occurred_at": _iso(now)},
            name=f"POST events ({event})",
        )
