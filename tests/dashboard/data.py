"""A small support desk for the dashboard tests (Django test client and browser), built
through the real services relative to ``now`` so that the event history is complete.

Team A (Alpha, Europe/Berlin): rep_a1 and rep_a2; team B: rep_b1 (must never show for
team A). With SUPPORTMETRICS_MIN_SAMPLE = 2 the hand-computed figures for team A over the
last 30 days are:

- backlog now: 4 open (a1-4, a1-5, a2-2, a2-3); by age 1–3 days 1, 3–7 days 2, over 30 days 1;
- first response: a1-1 1 h, a1-2 2 h, a1-3 30 min, a1-4 1 h, a2-1 4 h → n 5, median 1.0 h,
  mean 1.7 h, histogram under 1 h 1, 1–4 h 3, 4–8 h 1;
- resolution: a1-1 3 h, a1-2 6 h, a1-3 26 h (reopened, to its last resolution), a2-1 5 h →
  n 4, median 5.5 h, mean 10.0 h; histogram 1–4 h 1, 4–8 h 2, 1–3 days 1;
- SLA (billing 24 h, shipping 48 h): 3 of 4 = 75.0%;
- FCR: one agent response and never reopened: a1-1, a2-1 → 2 of 4 = 50.0%;
  reopen rate 1 of 4 = 25.0%;
- load: rep_a1 took on 5 and resolved 3, rep_a2 took on 2 and resolved 1 (of 7 and 4);
  Gini taken on 0.21, resolved 0.25;
- CSAT: rep_a1 answers 5 and 2 → 1 of 2 satisfied, 50.0% (Wilson 9.5–90.5%); rep_a2 one
  answer (4) → insufficient data; everyone 2 of 3 = 66.7%. rep_a1's answer of 2 raises a
  detractor alert (when ``alerts=True``), as does rep_b1's 1 for team B.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cases import services
from cases.models import Case, CaseEvent, SurveyResponse
from tests.factories import AccountFactory, CategoryFactory

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass
class DashboardData:
    now: datetime
    org: object
    billing: object
    shipping: object
    cases: dict[str, Case]
    responses: dict[str, SurveyResponse]


def add_case(org, name, category, opened, rep, events=(), channel="email", account=None):
    case, _ = services.case_create(
        external_id=name,
        category=category,
        channel=channel,
        opened_at=opened,
        assignee=rep,
        account=account,
    )
    for event_type, after in events:
        services.case_event_record(
            case=case, event_type=event_type, occurred_at=opened + after, actor=rep
        )
    case.refresh_from_db()
    return case


def build_dashboard_data(org, now: datetime, *, alerts: bool = False) -> DashboardData:
    """The data set above; ``now`` is the clock the pages will read (a whole hour is best)."""
    billing = org.category  # target 24 h
    shipping = CategoryFactory(slug="shipping", name="Shipping", target_resolution_hours=48)
    steady = AccountFactory(external_id="ACC-STEADY", name="Steady Ltd")
    shaky = AccountFactory(external_id="ACC-SHAKY", name="Shaky GmbH")
    a1, a2, b1 = org.rep_a1, org.rep_a2, org.rep_b1
    R = CaseEvent.Type  # a short name keeps the event lists readable
    cases = {
        "a1-1": add_case(
            org,
            "a1-1",
            billing,
            now - 10 * DAY,
            a1,
            [(R.AGENT_RESPONSE, HOUR), (R.RESOLVED, 3 * HOUR)],
            account=steady,
        ),
        "a1-2": add_case(
            org,
            "a1-2",
            billing,
            now - 9 * DAY,
            a1,
            [(R.AGENT_RESPONSE, 2 * HOUR), (R.AGENT_RESPONSE, 5 * HOUR), (R.RESOLVED, 6 * HOUR)],
            account=shaky,
        ),
        "a1-3": add_case(
            org,
            "a1-3",
            billing,
            now - 8 * DAY,
            a1,
            [
                (R.AGENT_RESPONSE, HOUR / 2),
                (R.RESOLVED, HOUR),
                (R.REOPENED, 2 * HOUR),
                (R.RESOLVED, 26 * HOUR),
            ],
            account=shaky,
        ),
        "a1-4": add_case(org, "a1-4", billing, now - 5 * DAY, a1, [(R.AGENT_RESPONSE, HOUR)]),
        "a1-5": add_case(org, "a1-5", billing, now - 2 * DAY, a1, channel="chat"),
        "a2-1": add_case(
            org,
            "a2-1",
            shipping,
            now - 7 * DAY,
            a2,
            [(R.AGENT_RESPONSE, 4 * HOUR), (R.RESOLVED, 5 * HOUR)],
        ),
        "a2-2": add_case(org, "a2-2", billing, now - 3 * DAY - 2 * HOUR, a2),
        "a2-3": add_case(org, "a2-3", billing, now - 40 * DAY, a2),
        "b1-1": add_case(
            org,
            "b1-1",
            billing,
            now - 6 * DAY,
            b1,
            [(R.AGENT_RESPONSE, HOUR), (R.RESOLVED, 2 * HOUR)],
        ),
        "b1-2": add_case(org, "b1-2", billing, now - DAY, b1),
    }

    def answer(name, rep, csat, after=DAY):
        case = cases[name]
        return SurveyResponse.objects.create(
            case=case,
            representative=rep,
            resolution_number=1,
            csat=csat,
            nps=9 if csat >= 4 else 3,
            comment="Slow and unhelpful." if csat <= 2 else "",
            responded_at=case.resolved_at + after,
        )

    responses = {
        "a1-1": answer("a1-1", a1, 5),
        "a1-2": answer("a1-2", a1, 2),
        "a2-1": answer("a2-1", a2, 4),
        "b1-1": answer("b1-1", b1, 1),
    }
    if alerts:
        from cases.services.alerts import detractor_alert_create_for_response

        for name in ("a1-2", "b1-1"):
            detractor_alert_create_for_response(response=responses[name])
    return DashboardData(now, org, billing, shipping, cases, responses)
