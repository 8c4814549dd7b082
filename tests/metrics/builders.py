"""Building case histories through the real services, for KPI tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cases import services

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_case(org, external_id, opened, assignee, events=()):
    case, _ = services.case_create(
        external_id=external_id,
        category=org.category,
        channel="email",
        opened_at=at(opened),
        assignee=assignee,
    )
    for event_type, when in events:
        services.case_event_record(
            case=case, event_type=event_type, occurred_at=at(when), actor=assignee
        )
    return case


_bulk_sequence = iter(range(1, 10**9))


def bulk_cases(rows):
    """Store new, untouched cases in one INSERT (no events): for KPIs that read only
    opened_at, account, requester, category, team and assignee. Each row is a dict of
    Case fields; channel defaults to email and external_id to a fresh ``bulk-N``."""
    from cases.models import Case

    return Case.objects.bulk_create(
        [
            Case(
                **{
                    "channel": "email",
                    "external_id": f"bulk-{next(_bulk_sequence)}",
                    **row,
                }
            )
            for row in rows
        ]
    )


def repeat_contact_cases(org):
    """The repeat-contacts case set (hand-computed in tests/metrics/test_kpi_frequency.py)."""
    from tests.factories import AccountFactory, CategoryFactory

    acc1 = AccountFactory(external_id="ACC1", name="Acme")
    acc2 = AccountFactory(external_id="ACC2", name="Bolt")
    acc3 = AccountFactory(external_id="ACC3", name="Crane")
    billing, shipping = org.category, CategoryFactory(slug="shipping")
    a1, a2, b1 = org.rep_a1, org.rep_a2, org.rep_b1

    def case(name, opened, account, email, category=billing, rep=a1):
        return {
            "external_id": name,
            "opened_at": at(opened),
            "account": account,
            "requester_email": email,
            "category": category,
            "assignee": rep,
            "team_id": rep.team_id,
        }

    bulk_cases(
        [
            # Before the window: only ever the earlier case of k2.
            case("k1", "2026-02-25T10:00", acc1, "alice@x.example"),
            # 5 days after k1, same account, category and (case-insensitive) requester.
            case("k2", "2026-03-02T10:00", acc1, "Alice@X.example"),
            # Exactly 7 × 24 h after k2: still "within 7 days" (account repeat).
            case("k3", "2026-03-09T10:00", acc1, "bob@x.example"),
            # Same account, another category: no repeat.
            case("k4", "2026-03-09T11:00", acc1, "bob@x.example", category=shipping),
            # At the window's first instant (00:00 Berlin): counted, not a repeat.
            case("k14", "2026-02-28T23:00", acc2, "gina@x.example"),
            # 2 d 11 h after k14: account repeat.
            case("k5", "2026-03-03T10:00", acc2, "carol@x.example"),
            # 7 d 1 min after k5: not a repeat of either kind.
            case("k6", "2026-03-10T10:01", acc2, "carol@x.example"),
            # Team B: outside team A's slice; a repeat of k6 (both ways) for team B.
            case("k7", "2026-03-10T12:00", acc2, "carol@x.example", rep=b1),
            # Team B, and the earlier case of k9: the customer came back, whoever answered.
            case("k8", "2026-03-04T10:00", acc3, "dave@x.example", rep=b1),
            case("k9", "2026-03-05T10:00", acc3, "erin@x.example", rep=a2),
            # No account; two at the same instant: the second (higher id) is the repeat.
            case("k10", "2026-03-06T10:00", None, "frank@x.example"),
            case("k11", "2026-03-06T10:00", None, "frank@x.example"),
            # No account, no requester address: in the denominator only.
            case("k12", "2026-03-07T10:00", None, ""),
            # 00:00 Berlin on 11 March: the window's end is exclusive.
            case("k13", "2026-03-10T23:00", acc1, "alice@x.example"),
        ]
    )
    return org


# --- accounts and queue -------------------------------------------------------------------


def _when(value):
    return value if isinstance(value, datetime) else at(value)


def make_account(
    external_id, *, value=10_000, segment="smb", created="2025-01-01T00:00", churned=None
):
    """An account created at ``created`` (auto_now_add ignores a given value, hence the update)."""
    from cases.models import Account

    account = Account.objects.create(
        external_id=external_id,
        name=external_id.title(),
        annual_value=value,
        segment=segment,
        status="churned" if churned else "active",
        churned_at=_when(churned) if churned else None,
    )
    Account.objects.filter(pk=account.pk).update(created_at=_when(created))
    account.refresh_from_db()
    return account


def folded_cases(org, specs):
    """Cases stored in two bulk INSERTs (cases, then events) with exactly the fields the real
    fold (cases.state.apply_event) gives them — for KPIs that do not test the lifecycle.

    A spec is ``(external_id, opened, assignee, account, events)`` plus an optional dict of
    Case fields (priority, last_customer_activity_at, …); events are ``(type, when)`` done
    by the assignee, or ``(type, when, to_status)`` for ``status_changed``. An unassigned
    case (assignee None) takes its team from the extra fields. Returns {external_id: case}.
    """
    from cases.models import Case, CaseEvent
    from cases.state import CaseState, apply_event

    cases, histories = [], []
    for external_id, opened, assignee, account, events, *extra in specs:
        opened = _when(opened)
        state = CaseState(status="new", opened_at=opened)
        history = [("created", opened, None)]
        assigned = [("assigned", opened)] if assignee is not None else []
        for event_type, when, *rest in [*assigned, *events]:
            before = state.status
            state = apply_event(
                state,
                event_type=event_type,
                occurred_at=_when(when),
                actor_id=assignee.pk if assignee else None,
                assignee_id=assignee.pk if assignee else None,
                assignee_team_id=assignee.team_id if assignee else None,
                to_status=rest[0] if rest else "",
            )
            history.append((event_type, _when(when), before, state.status))
        cases.append(
            Case(
                external_id=external_id,
                category=org.category,
                channel="email",
                account=account,
                **{**state.as_fields(), **(extra[0] if extra else {})},
            )
        )
        histories.append(history)
    stored = Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                event_type=item[0],
                occurred_at=item[1],
                actor=None if item[0] == "created" else case.assignee,
                assignee=case.assignee if item[0] == "assigned" else None,
                from_status=item[2] if len(item) > 3 else "",
                to_status=item[3] if len(item) > 3 else "new",
            )
            for case, history in zip(stored, histories, strict=True)
            for item in history
        ]
    )
    return {case.external_id: case for case in stored}


def add_csat(case, csat, responded, *, resolution_number=1):
    """One survey answer (CSAT 1–5) to a resolution of ``case``."""
    from cases.models import SurveyResponse

    return SurveyResponse.objects.create(
        case=case,
        representative=case.resolved_by or case.assignee,
        resolution_number=resolution_number,
        csat=csat,
        responded_at=_when(responded),
    )


def account_cases(org):
    """The account set hand-computed in tests/metrics/test_kpi_accounts.py.

    Period [10 Feb 12:00, 10 Mar 12:00) UTC (28 days, ending at NOW); previous period
    [13 Jan 12:00, 10 Feb 12:00). All accounts are created on 1 Jan 2025 unless noted.
    """
    from cases.models import CaseEvent

    R, RE = CaseEvent.Type.RESOLVED, CaseEvent.Type.REOPENED
    a1, a2, b1 = org.rep_a1, org.rep_a2, org.rep_b1
    acme = make_account("acme", value=20_000, segment="mid_market")
    beta = make_account("beta", value=10_000, segment="smb")
    gamma = make_account("gamma", value=0, segment="smb")
    delta = make_account("delta", value=50_000, segment="enterprise")
    make_account("quiet", value=5_000, segment="smb")  # no cases at all
    make_account("fresh", value=5_000, segment="enterprise", created="2026-02-20T00:00")
    gone = make_account("gone", value=8_000, segment="smb", churned="2026-03-01T00:00")
    make_account("later", value=8_000, created="2026-03-20T00:00")  # created after NOW

    c = folded_cases(
        org,
        [
            # acme, team A. Previous period: a1, a6. Period: a2 a3 a4 a5 a7 a8.
            ("a1", "2026-01-20T10:00", a1, acme, [(R, "2026-01-21T10:00")]),
            (
                "a2",
                "2026-02-15T10:00",
                a1,
                acme,
                [(R, "2026-02-16T10:00"), (RE, "2026-02-18T10:00"), (R, "2026-02-19T10:00")],
            ),
            ("a3", "2026-02-20T10:00", a1, acme, []),  # open
            # reopened, open now
            (
                "a4",
                "2026-03-01T10:00",
                a1,
                acme,
                [(R, "2026-03-02T10:00"), (RE, "2026-03-05T10:00")],
            ),
            ("a5", "2026-03-05T10:00", a2, acme, [(R, "2026-03-06T10:00")]),
            # an hour before the period; its answer comes inside it
            ("a6", "2026-02-10T11:00", a1, acme, [(R, "2026-02-11T10:00")]),
            # at the period's first instant: in it
            ("a7", "2026-02-10T12:00", a1, acme, [(R, "2026-02-12T10:00")]),
            ("a8", "2026-03-02T09:00", a1, acme, [(R, "2026-03-04T10:00")]),
            # beta, rep A2: b1 resolved and answered 5; b2 open, an hour before NOW.
            ("b1", "2026-02-20T10:00", a2, beta, [(R, "2026-02-21T10:00")]),
            ("b2", "2026-03-10T11:00", a2, beta, []),
            # gamma (no annual value), rep A1: one resolved case, no answer.
            ("g1", "2026-02-25T10:00", a1, gamma, [(R, "2026-02-26T10:00")]),
            # delta, team B only: d1 open; d2 from the previous period, answered in the period.
            ("d1", "2026-02-15T10:00", b1, delta, []),
            ("d2", "2026-01-15T10:00", b1, delta, [(R, "2026-01-16T10:00")]),
            # gone churned on 1 March (in the period), team A.
            ("x1", "2026-02-12T10:00", a1, gone, [(R, "2026-02-13T10:00")]),
        ],
    )
    add_csat(c["a1"], 1, "2026-01-22T10:00")  # answered in the previous period: not counted
    add_csat(c["a2"], 2, "2026-02-19T13:00", resolution_number=2)  # a detractor
    add_csat(c["a5"], 5, "2026-03-06T13:00")
    add_csat(c["a6"], 3, "2026-02-11T12:00")
    add_csat(c["a7"], 4, "2026-02-12T13:00")
    add_csat(c["b1"], 5, "2026-02-22T10:00")
    add_csat(c["d2"], 1, "2026-02-11T10:00")
    add_csat(c["x1"], 1, "2026-02-14T10:00")
    return org


def queue_case_set(org):
    """The open cases hand-computed in tests/metrics/test_kpi_queue.py (NOW = 10 March 12:00)."""
    from cases.models import CaseEvent

    T = CaseEvent.Type
    a1, a2, b1 = org.rep_a1, org.rep_a2, org.rep_b1
    folded_cases(
        org,
        [
            # q1: urgent, 2 h old, the customer waits since opening: 30 + 1.458 + 0.089.
            ("q1", "2026-03-10T10:00", a1, None, [], {"priority": "urgent"}),
            # q2: normal, 3 days old, one response, the customer wrote 24 h ago:
            # 10 + 17.5 + 3.214 + 2.5 = 33.214.
            (
                "q2",
                "2026-03-07T12:00",
                a1,
                None,
                [(T.AGENT_RESPONSE, "2026-03-07T14:00"), (T.CUSTOMER_RESPONSE, "2026-03-09T12:00")],
            ),
            # q3: high, 9 days old, answered and pending on the customer: no waiting points.
            # 20 + 0 + 9.643 + 2.5 = 32.143.
            (
                "q3",
                "2026-03-01T12:00",
                a1,
                None,
                [
                    (T.AGENT_RESPONSE, "2026-03-01T13:00"),
                    (T.STATUS_CHANGED, "2026-03-01T13:05", "pending"),
                ],
                {"priority": "high"},
            ),
            # q4: low, 18 days old (age capped), two responses and a reopen (effort 4), the
            # customer wrote 48 h ago (waiting capped): 0 + 35 + 15 + 10 = 60.
            (
                "q4",
                "2026-02-20T12:00",
                a2,
                None,
                [
                    (T.AGENT_RESPONSE, "2026-02-20T13:00"),
                    (T.RESOLVED, "2026-02-21T12:00"),
                    (T.REOPENED, "2026-02-22T12:00"),
                    (T.AGENT_RESPONSE, "2026-02-22T13:00"),
                    (T.CUSTOMER_RESPONSE, "2026-03-08T12:00"),
                ],
                {"priority": "low"},
            ),
            # q5: resolved: not in any queue.
            ("q5", "2026-03-09T10:00", a1, None, [(T.RESOLVED, "2026-03-09T13:00")]),
            # q6: team B, urgent, 1 h old: 30 + 0.729 + 0.045 = 30.774.
            ("q6", "2026-03-10T11:00", b1, None, [], {"priority": "urgent"}),
            # q7: unassigned in team A, 6 h old: 10 + 4.375 + 0.268 = 14.643.
            ("q7", "2026-03-10T06:00", None, None, [], {"team_id": org.team_a.pk}),
            # q8: opened at NOW exactly: 10 points for its priority, nothing else.
            ("q8", "2026-03-10T12:00", a1, None, []),
        ],
    )
    return org


# --- seasonality ---------------------------------------------------------------------------

# Monthly counts of the seasonal-index case set (category billing, team A), hand-picked so
# each 12-month year has a round mean: 12 cases (mean 1) and 24 cases (mean 2).
SEASONAL_OLDER = [3, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1]  # 2024-03 .. 2025-02
SEASONAL_RECENT = [5, 2, 2, 2, 2, 1, 2, 2, 2, 1, 3, 0]  # 2025-03 .. 2026-02


def seasonal_cases(org):
    """The seasonal-index case set; expected figures in tests/metrics/test_kpi_seasonality.py.

    Cases on the 15th at 12:00 UTC of each month, except: one of March 2025's five at
    28 Feb 23:30 UTC (1 March 00:30 in Berlin); an earlier first case at 29 Feb 2024 23:59
    Berlin (before the history, it is the slice's first case); one on 1 March 2026 00:30
    Berlin (after the history, inside March 2026); a team-B case; two shipping cases.
    """
    from tests.factories import CategoryFactory

    shipping = CategoryFactory(slug="shipping", name="Shipping")
    rows = []

    def add(when, category=org.category, rep=org.rep_a1):
        rows.append(
            {
                "opened_at": when,
                "category": category,
                "assignee": rep,
                "team_id": rep.team_id,
            }
        )

    for offset, count in enumerate(SEASONAL_OLDER + SEASONAL_RECENT):
        year, month = divmod(2024 * 12 + 2 + offset, 12)
        for i in range(count):
            if (year, month + 1, i) == (2025, 3, 0):
                add(at("2025-02-28T23:30"))
            else:
                add(datetime(year, month + 1, 15, 12, tzinfo=UTC))
    add(at("2024-02-29T22:59"))
    add(at("2026-02-28T23:30"))
    add(at("2025-03-15T12:00"), rep=org.rep_b1)
    add(at("2025-11-15T12:00"), category=shipping)
    add(at("2025-11-16T12:00"), category=shipping)
    bulk_cases(rows)
    return org


# --- load, times and FCR ------------------------------------------------------------------


def make_case_with(
    org,
    external_id,
    opened,
    assignee,
    events=(),
    *,
    category=None,
    channel="email",
    priority="normal",
):
    """Like make_case, choosing category, channel and priority. An event is
    ``(type, when)`` — done by the assignee — or ``(type, when, actor)`` (actor None: no
    actor, as a help-desk integration records it) or, for ``assigned``,
    ``(type, when, actor, new_assignee)``."""
    case, _ = services.case_create(
        external_id=external_id,
        category=category or org.category,
        channel=channel,
        priority=priority,
        opened_at=at(opened),
        assignee=assignee,
    )
    for event_type, when, *rest in events:
        actor = rest[0] if rest else assignee
        services.case_event_record(
            case=case,
            event_type=event_type,
            occurred_at=at(when),
            actor=actor,
            assignee=rest[1] if len(rest) > 1 else None,
        )
    case.refresh_from_db()
    return case


def march_week(org, **overrides):
    """A KpiFilter for team A over Mon 2 – Sun 8 March 2026 in Berlin, that is
    [1 Mar 23:00 UTC, 8 Mar 23:00 UTC); ``overrides`` replace any of its fields."""
    from metrics.types import KpiFilter

    values = dict(
        start=datetime(2026, 3, 2, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2026, 3, 9, tzinfo=BERLIN).astimezone(UTC),
        tz=BERLIN,
        team_ids=(org.team_a.pk,),
    )
    values.update(overrides)
    return KpiFilter(**values)


def local_days(zone, first_day, length, **fields):
    """A KpiFilter over ``length`` whole calendar days in ``zone`` (an IANA name), from
    the local date of ``first_day``, a moment; ``fields`` add to it (team_ids, basis…)."""
    from datetime import time, timedelta

    from metrics.types import KpiFilter

    tz = ZoneInfo(zone)
    day0 = first_day.astimezone(tz).date()
    return KpiFilter(
        start=datetime.combine(day0, time(0), tzinfo=tz).astimezone(UTC),
        end=datetime.combine(day0 + timedelta(days=length), time(0), tzinfo=tz).astimezone(UTC),
        tz=tz,
        **fields,
    )


def resolution_cases(org):
    """Cases of team A (and one of team B) first responded to and resolved in the week of
    2–8 March 2026 (Europe/Berlin, UTC+1), for the response time, resolution time and FCR
    tests; each test file works its expected figures out from these comments.

    ``org.category`` (billing) has a 24 h target; ``org.misc`` (created here) none.
    """
    from cases.models import CaseEvent
    from tests.factories import CategoryFactory

    org.misc = CategoryFactory(slug="misc", name="Misc", target_resolution_hours=None)

    T = CaseEvent.Type
    a1, a2 = org.rep_a1, org.rep_a2
    # r1: Mon 09:00 Berlin; response +30 min; resolved +2 h. 1 response.
    make_case_with(
        org,
        "r1",
        "2026-03-02T08:00",
        a1,
        [(T.AGENT_RESPONSE, "2026-03-02T08:30"), (T.RESOLVED, "2026-03-02T10:00")],
    )
    # r2: response +4 h; resolved Tue 15:00 Berlin: 30 h calendar, 14 h business.
    make_case_with(
        org,
        "r2",
        "2026-03-02T08:00",
        a1,
        [(T.AGENT_RESPONSE, "2026-03-02T12:00"), (T.RESOLVED, "2026-03-03T14:00")],
    )
    # r3: rep A2, no target, resolved after 30 min without any response (zero-touch).
    make_case_with(
        org,
        "r3",
        "2026-03-04T09:00",
        a2,
        [(T.RESOLVED, "2026-03-04T09:30")],
        category=org.misc,
    )
    # r4: rep A2, chat; two responses (+1 h, +2 h); resolved +8 h (Thu 09:00–17:00 Berlin).
    make_case_with(
        org,
        "r4",
        "2026-03-05T08:00",
        a2,
        [
            (T.AGENT_RESPONSE, "2026-03-05T09:00"),
            (T.AGENT_RESPONSE, "2026-03-05T10:00"),
            (T.RESOLVED, "2026-03-05T16:00"),
        ],
        channel="chat",
    )
    # r5: response before the window; resolved at the window's first instant (00:00 Berlin
    # on Mon 2 March): 13 h calendar, 0 business.
    make_case_with(
        org,
        "r5",
        "2026-03-01T10:00",
        a1,
        [(T.AGENT_RESPONSE, "2026-03-01T12:00"), (T.RESOLVED, "2026-03-01T23:00")],
    )
    # r6: rep A2; response at 23:59 Berlin on Sun 8 March (12 h 59 min), resolved at the
    # window's end (excluded: the window is half-open).
    make_case_with(
        org,
        "r6",
        "2026-03-08T10:00",
        a2,
        [(T.AGENT_RESPONSE, "2026-03-08T22:59"), (T.RESOLVED, "2026-03-08T23:00")],
    )
    # r7: response +1 h, resolved, reopened, resolved again Fri: 96 h calendar, 32 h business.
    make_case_with(
        org,
        "r7",
        "2026-03-02T10:00",
        a1,
        [
            (T.AGENT_RESPONSE, "2026-03-02T11:00"),
            (T.RESOLVED, "2026-03-02T12:00"),
            (T.REOPENED, "2026-03-03T10:00"),
            (T.RESOLVED, "2026-03-06T10:00"),
        ],
    )
    # r8: assigned to A1 but first answered by A2 (+1 h); resolved, reopened, open now.
    make_case_with(
        org,
        "r8",
        "2026-03-03T10:00",
        a1,
        [
            (T.AGENT_RESPONSE, "2026-03-03T11:00", a2),
            (T.RESOLVED, "2026-03-03T12:00"),
            (T.REOPENED, "2026-03-04T10:00"),
        ],
    )
    # r9: team B, responded and resolved in the window: never in team A's figures.
    make_case_with(
        org,
        "r9",
        "2026-03-03T10:00",
        org.rep_b1,
        [(T.AGENT_RESPONSE, "2026-03-03T10:10"), (T.RESOLVED, "2026-03-03T10:20")],
    )
    # r10: open, never answered.
    make_case_with(org, "r10", "2026-03-04T10:00", a1)
    return org


def load_history(org):
    """Team A: reps A1, A2, an idle A3 and manager A, taking on and resolving cases in the
    week of 2–8 March 2026 (Berlin); the load tests work their figures out from these."""
    from cases.models import CaseEvent
    from tests.factories import RepresentativeFactory

    T = CaseEvent.Type
    a1, a2, mgr = org.rep_a1, org.rep_a2, org.manager_a
    org.rep_a3 = RepresentativeFactory(team=org.team_a, user__username="rep_a3")
    # L1: taken on and resolved by A1 on Monday.
    make_case_with(
        org,
        "L1",
        "2026-03-02T08:00",
        a1,
        [(T.AGENT_RESPONSE, "2026-03-02T09:00"), (T.RESOLVED, "2026-03-02T10:00")],
    )
    # L2: A1 (Mon) → A2 (Tue) → A1 again (Wed); resolved Wed by an integration (no actor):
    # the latest resolution, so it is the assignee's, A1's.
    make_case_with(
        org,
        "L2",
        "2026-03-02T09:00",
        a1,
        [
            (T.ASSIGNED, "2026-03-03T09:00", mgr, a2),
            (T.ASSIGNED, "2026-03-04T09:00", mgr, a1),
            (T.RESOLVED, "2026-03-04T12:00", None),
        ],
    )
    # L3: A2 (Tue); resolved Tue without an actor (A2 was the assignee); reopened Wed,
    # reassigned to A1, resolved by A1 Thu. Both resolutions count, one for each rep.
    make_case_with(
        org,
        "L3",
        "2026-03-03T08:00",
        a2,
        [
            (T.RESOLVED, "2026-03-03T10:00", None),
            (T.REOPENED, "2026-03-04T08:00"),
            (T.ASSIGNED, "2026-03-04T09:00", mgr, a1),
            (T.RESOLVED, "2026-03-05T10:00", a1),
        ],
    )
    # L4: A2 (Thu); resolved by the manager.
    make_case_with(org, "L4", "2026-03-05T08:00", a2, [(T.RESOLVED, "2026-03-05T12:00", mgr)])
    # L5: assigned at 23:59 Berlin the day before the window; resolved by A1 at its first
    # instant (00:00 Berlin on Monday).
    make_case_with(org, "L5", "2026-03-01T22:59", a1, [(T.RESOLVED, "2026-03-01T23:00")])
    # L6: assigned to A2 at 23:00 Berlin on Sunday; resolved at the window's end (excluded).
    make_case_with(org, "L6", "2026-03-08T22:00", a2, [(T.RESOLVED, "2026-03-08T23:00")])
    # L7: team B.
    make_case_with(org, "L7", "2026-03-03T08:00", org.rep_b1, [(T.RESOLVED, "2026-03-03T09:00")])
    return org


def make_case_in(
    org,
    external_id,
    opened,
    assignee,
    events=(),
    *,
    category=None,
    channel="email",
    priority="normal",
):
    """make_case with the case's category, channel and priority chosen (case-mix tests).

    An event is ``(type, when)`` (the assignee acts) or ``(type, when, actor)``."""
    case, _ = services.case_create(
        external_id=external_id,
        category=category or org.category,
        channel=channel,
        priority=priority,
        opened_at=at(opened),
        assignee=assignee,
    )
    for event_type, when, *actor in events:
        services.case_event_record(
            case=case,
            event_type=event_type,
            occurred_at=at(when),
            actor=actor[0] if actor else assignee,
        )
    case.refresh_from_db()
    return case


def add_survey(case, csat, responded, *, nps=None, effort=None, resolution_number=1, rep=None):
    """A survey answer to one resolution of ``case``; the rep defaults to its resolver."""
    from cases.models import SurveyResponse

    return SurveyResponse.objects.create(
        case=case,
        representative=rep or case.resolved_by,
        resolution_number=resolution_number,
        csat=csat,
        nps=nps,
        effort=effort,
        responded_at=at(responded),
    )


def csat_surveys(org):
    """Survey answers for CSAT tests: team A in March (Berlin), worked out by hand.

    rep_a1 — responses in March: 5, 4, 2, 5 (March resolutions) and 3 (a February
    resolution answered at the window's first instant) → n 5, satisfied 3, mean 3.8.
    NPS answers 10, 7, 3 → 1 promoter, 1 passive, 1 detractor. Effort 2, 6, 1 → mean 3.
    Resolutions in March: the four above, c5 (never answered), c7 (31 March 23:30 Berlin,
    answered at 00:00 on 1 April, after the window, still "responded") → 6, 5 responded.
    c8 is resolved at the window's end instant: not a March resolution.
    rep_a2 — c9 resolved, answered 1, reopened, resolved again, answered 4; c10 (chat, in
    the Shipping category) answered 5 → three resolutions, three responses, mean 10/3.
    rep_b1 (team B): one response, 1 — outside team A.
    """
    from cases.models import CaseEvent
    from tests.factories import CategoryFactory

    resolved, reopened = CaseEvent.Type.RESOLVED, CaseEvent.Type.REOPENED
    a1, a2 = org.rep_a1, org.rep_a2
    other = CategoryFactory(slug="shipping", name="Shipping")
    c1 = make_case_in(org, "c1", "2026-02-28T20:00", a1, [(resolved, "2026-02-28T23:00")])
    add_survey(c1, 5, "2026-03-02T10:00", nps=10, effort=2)
    c2 = make_case_in(org, "c2", "2026-03-03T09:00", a1, [(resolved, "2026-03-03T12:00")])
    add_survey(c2, 4, "2026-03-04T10:00", nps=7)
    c3 = make_case_in(org, "c3", "2026-03-10T09:00", a1, [(resolved, "2026-03-11T12:00")])
    add_survey(c3, 2, "2026-03-12T10:00", nps=3, effort=6)
    c4 = make_case_in(org, "c4", "2026-03-20T09:00", a1, [(resolved, "2026-03-20T12:00")])
    add_survey(c4, 5, "2026-03-21T10:00", effort=1)
    make_case_in(org, "c5", "2026-03-22T09:00", a1, [(resolved, "2026-03-23T12:00")])
    c6 = make_case_in(org, "c6", "2026-02-20T09:00", a1, [(resolved, "2026-02-27T12:00")])
    add_survey(c6, 3, "2026-02-28T23:00")
    c7 = make_case_in(org, "c7", "2026-03-31T09:00", a1, [(resolved, "2026-03-31T21:30")])
    add_survey(c7, 1, "2026-03-31T22:00")
    make_case_in(org, "c8", "2026-03-31T09:00", a1, [(resolved, "2026-03-31T22:00")])
    c9 = make_case_in(
        org,
        "c9",
        "2026-03-09T09:00",
        a2,
        [
            (resolved, "2026-03-10T09:00"),
            (reopened, "2026-03-11T09:00"),
            (resolved, "2026-03-12T09:00"),
        ],
    )
    add_survey(c9, 1, "2026-03-10T18:00")
    add_survey(c9, 4, "2026-03-13T10:00", resolution_number=2)
    c10 = make_case_in(
        org,
        "c10",
        "2026-03-15T09:00",
        a2,
        [(resolved, "2026-03-15T10:00")],
        category=other,
        channel="chat",
    )
    add_survey(c10, 5, "2026-03-16T10:00")
    b1 = make_case_in(org, "b1", "2026-03-05T09:00", org.rep_b1, [(resolved, "2026-03-05T12:00")])
    add_survey(b1, 1, "2026-03-06T10:00")
    org.shipping = other
    return org


def coaching_cases(org):
    """Rep A1's coaching set: March 2026 (Berlin) against teammates, worked out by hand.

    Cells: X = billing/email/normal, Y = shipping/chat/high. Hours after opening.
    A1: r1 X resolve 2 h (first response 1 h, FCR, CSAT 5); r2 X 4 h (0.5 h, FCR, CSAT 4);
        r3 Y 6 h (2 h, two responses: not FCR, CSAT 2); r4 Y resolved at 8 h, reopened,
        resolved again at 25 h (1 h, not FCR); in April r5 X 3 h; in February r0 X.
    Teammates: t1 X A2 1 h (0.25 h, FCR, CSAT 5); t2 X A2 3 h (1 h, FCR, CSAT 3);
        t3 Y A2 10 h (1 h, two responses); t4 Y resolved by the manager 4 h (0.5 h, FCR);
        t5 X A2 resolved at 2 h then reopened, still open (1 h).
    Team B: b1 X, resolved by B1 — never part of the comparison.
    """
    from datetime import timedelta

    from cases.models import CaseEvent
    from tests.factories import CategoryFactory

    t = CaseEvent.Type
    a1, a2, mgr = org.rep_a1, org.rep_a2, org.manager_a
    shipping = CategoryFactory(slug="shipping", name="Shipping")
    x = {"category": org.category, "channel": "email", "priority": "normal"}
    y = {"category": shipping, "channel": "chat", "priority": "high"}

    def case(name, cell, rep, opened, steps, answer=None):
        """``steps``: (event type, hours after opening[, actor])."""
        start = at(opened)
        events = [
            (kind, (start + timedelta(hours=hours)).isoformat()[:19], *actor)
            for kind, hours, *actor in steps
        ]
        made = make_case_in(org, name, opened, rep, events, **cell)
        if answer is not None:
            add_survey(made, answer, (start + timedelta(days=1)).isoformat()[:19])
        return made

    resolve, respond, reopen = t.RESOLVED, t.AGENT_RESPONSE, t.REOPENED
    case("r0", x, a1, "2026-02-20T09:00", [(respond, 1), (resolve, 2)])
    case("r1", x, a1, "2026-03-02T09:00", [(respond, 1), (resolve, 2)], answer=5)
    case("r2", x, a1, "2026-03-03T09:00", [(respond, 0.5), (resolve, 4)], answer=4)
    case("r3", y, a1, "2026-03-04T09:00", [(respond, 2), (respond, 3), (resolve, 6)], answer=2)
    case("r4", y, a1, "2026-03-05T09:00", [(respond, 1), (resolve, 8), (reopen, 24), (resolve, 25)])
    case("r5", x, a1, "2026-04-01T09:00", [(respond, 1), (resolve, 3)])
    case("t1", x, a2, "2026-03-02T09:00", [(respond, 0.25), (resolve, 1)], answer=5)
    case("t2", x, a2, "2026-03-09T09:00", [(respond, 1), (resolve, 3)], answer=3)
    case("t3", y, a2, "2026-03-10T09:00", [(respond, 1), (respond, 2), (resolve, 10)])
    case("t4", y, a2, "2026-03-11T09:00", [(respond, 0.5), (resolve, 4, mgr)])
    case("t5", x, a2, "2026-03-12T09:00", [(respond, 1), (resolve, 2), (reopen, 24)])
    case("b1", x, org.rep_b1, "2026-03-02T09:00", [(respond, 5), (resolve, 6)], answer=1)
    org.shipping = shipping
    return org
