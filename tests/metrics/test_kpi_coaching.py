"""The coaching view: a rep beside their teammates for the same case mix, hand-computed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent, CaseStatus, SurveyResponse
from cases.state import CaseState, apply_event
from metrics.kpis.coaching import kpi_rep_coaching
from metrics.stats import two_proportion_z
from metrics.types import KpiFilter
from tests.metrics.builders import BERLIN, coaching_cases

pytestmark = pytest.mark.django_db

T = CaseEvent.Type
H = 3600.0
MARCH_START = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # March in Berlin: CET, then CEST
MARCH_END = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)  # this month April, last month March


def march(**overrides):
    return KpiFilter(**{"start": MARCH_START, "end": MARCH_END, "tz": BERLIN, **overrides})


@pytest.fixture
def cases(org):
    return coaching_cases(org)


def figures(result):
    return {fig.figure: fig for fig in result.figures}


def sd(values):
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def test_hand_computed_figures_beside_the_team(cases, django_assert_num_queries):
    org = cases
    with django_assert_num_queries(2):  # the rep, then one statement for every figure
        result = kpi_rep_coaching(f=march(), now=NOW, rep_id=org.rep_a1.pk, min_n=3)
    assert (result.rep, result.rep_label, result.team, result.team_label) == (
        org.rep_a1.pk,
        "Rep_A1",
        org.team_a.pk,
        "Alpha",
    )
    assert (result.this_month, result.last_month) == ("2026-04", "2026-03")
    by_name = figures(result)

    # Resolution time. A1: r1 2 h, r2 4 h, r3 6 h, r4 25 h (opened to the last resolution);
    # r0 (February) and r5 (April) are outside the window. Teammates: t1 1, t2 3, t3 10,
    # t4 4 (the manager's); t5 is open again. The team's cells: X (1, 3) → 2 h, Y (10, 4)
    # → 7 h; A1 has two cases in each, so the expected mean is (2·2 + 2·7) / 4 = 4.5 h.
    resolution = by_name["resolution_time"]
    assert (resolution.rep.n, resolution.rep.value, resolution.rep.median) == (4, 9.25 * H, 5 * H)
    assert (resolution.team.n, resolution.team.value, resolution.team.median) == (
        4,
        4.5 * H,
        3.5 * H,
    )
    assert resolution.vs_team.expected == pytest.approx(4.5 * H)
    assert resolution.vs_team.difference == pytest.approx(4.75 * H)
    z = 4.75 * H / math.sqrt((sd([2, 4, 6, 25]) * H) ** 2 / 4 + (sd([1, 3, 10, 4]) * H) ** 2 / 4)
    assert resolution.vs_team.z == pytest.approx(z)  # ≈ 0.84
    assert resolution.vs_team.meaningful is False
    assert resolution.vs_team.statement == (
        "Resolution time: no meaningful difference from the team for the same mix of "
        "category, channel and priority (mean 9.2 h against 4.5 h expected; n = 4 and 4)."
    )

    # First response time. A1: 1, 0.5, 2, 1 h. Teammates: 0.25, 1, 1, 0.5 and t5's 1 h;
    # both cells average 0.75 h, so the expectation is 0.75 h whatever the mix.
    first = by_name["first_response_time"]
    assert (first.rep.n, first.rep.value, first.team.n) == (4, 1.125 * H, 5)
    assert first.vs_team.expected == pytest.approx(0.75 * H)

    # FCR: A1 r1, r2 of four (r3 had two responses, r4 was reopened). Team: t1, t2, t4 of
    # four; cells X 2/2, Y 1/2 → expected (2·1 + 2·0.5) / 4 = 0.75.
    fcr = by_name["fcr"]
    assert (fcr.rep.n, fcr.rep.value, fcr.team.value) == (4, 0.5, 0.75)
    assert fcr.vs_team.expected == pytest.approx(0.75)
    assert fcr.vs_team.z == pytest.approx(two_proportion_z(2, 4, 3, 4))

    # Reopen: of A1's four resolved cases r4 was reopened; none of the teammates' four (t5,
    # reopened and open now, is in no window's set). Expected: 0 in both cells.
    reopen = by_name["reopen"]
    assert (reopen.rep.n, reopen.rep.value, reopen.team.n, reopen.team.value) == (4, 0.25, 4, 0.0)
    assert reopen.vs_team.expected == 0.0
    assert reopen.vs_team.z == pytest.approx(two_proportion_z(1, 4, 0, 4))  # ≈ 1.07

    # CSAT: A1 answers 5, 4, 2 → 2/3. The team's two answers (5, 3) are shown — a group's
    # figure — but under min_n = 3 there is no comparison, and it says so.
    csat = by_name["csat"]
    assert (csat.rep.n, csat.rep.value) == (3, pytest.approx(2 / 3))
    assert (csat.team.n, csat.team.value, csat.team.insufficient_data) == (2, 0.5, False)
    assert (csat.vs_team.expected, csat.vs_team.z, csat.vs_team.meaningful) == (None, None, False)
    assert csat.vs_team.unmatched_n == 1  # r3 is in Y, where the team has no answers
    assert csat.vs_team.statement == (
        "CSAT satisfied share: not enough data to compare (n = 3 and 2; at least 3 needed on "
        "each side)."
    )

    # Volume: four resolved cases; the teammates' four over two people (A2, the manager).
    volume = by_name["volume"]
    assert (volume.rep.value, volume.team.n, volume.team.value, volume.vs_team) == (
        4.0,
        4,
        2.0,
        None,
    )
    assert [(c.category_label, c.channel, c.priority, c.rep_n, c.team_n) for c in result.mix] == [
        ("Billing", "email", "normal", 2, 2),
        ("Shipping", "chat", "high", 2, 2),
    ]
    assert result.summary == (
        "No statistically meaningful difference from the team for the same mix of category, "
        "channel and priority in any figure."
    )


def test_month_on_month_and_minimum_sample(cases):
    org = cases
    result = kpi_rep_coaching(f=march(), now=NOW, rep_id=org.rep_a1.pk, min_n=1)
    resolution = figures(result)["resolution_time"].month_on_month
    # April so far: r5 (3 h); March: the window's four cases.
    assert (resolution.this_month.n, resolution.this_month.value) == (1, 3 * H)
    assert (resolution.last_month.n, resolution.last_month.value) == (4, 9.25 * H)
    assert resolution.change == pytest.approx(-6.25 * H)
    assert resolution.z is None  # one case has no standard deviation
    assert "no meaningful change" in resolution.statement
    fcr = figures(result)["fcr"].month_on_month
    assert (fcr.this_month.value, fcr.last_month.value) == (1.0, 0.5)
    assert fcr.z == pytest.approx(two_proportion_z(1, 1, 2, 4))

    # At the default minimum (10) every figure here is "insufficient data", not a number.
    default = kpi_rep_coaching(f=march(), now=NOW, rep_id=org.rep_a1.pk)
    assert default.min_n == 10
    for fig in default.figures:
        if fig.kind == "count":
            continue
        assert fig.rep.insufficient_data and fig.rep.value is None and fig.rep.n > 0
        assert fig.vs_team.expected is None and not fig.vs_team.meaningful
        assert fig.month_on_month.change is None
        assert "not enough data" in fig.vs_team.statement


def test_window_edges_slice_and_other_teams(cases):
    org = cases
    r1_resolved = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    r4_resolved = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)

    def rep_n(**overrides):
        result = kpi_rep_coaching(f=march(**overrides), now=NOW, rep_id=org.rep_a1.pk, min_n=1)
        return figures(result)["resolution_time"].rep.n

    assert rep_n(start=r1_resolved) == 4  # the first instant is in
    assert rep_n(start=r1_resolved + timedelta(microseconds=1)) == 3
    assert rep_n(end=r4_resolved) == 3  # the end instant is out: r1, r2, r3 remain
    assert rep_n(end=r4_resolved + timedelta(microseconds=1)) == 4

    # Team and rep filters of the slice do not change whom the rep is compared with; B1's
    # case (team B, in cell X) is never part of the team.
    team_b = kpi_rep_coaching(
        f=march(team_ids=(org.team_b.pk,), rep_ids=(org.rep_b1.pk,)),
        now=NOW,
        rep_id=org.rep_a1.pk,
        min_n=1,
    )
    resolution = figures(team_b)["resolution_time"]
    assert (resolution.rep.n, resolution.team.n, resolution.team.value) == (4, 4, 4.5 * H)

    # A category slice applies to both sides: Shipping only (cell Y).
    shipping = kpi_rep_coaching(
        f=march(category_ids=(org.shipping.pk,)), now=NOW, rep_id=org.rep_a1.pk, min_n=1
    )
    resolution = figures(shipping)["resolution_time"]
    assert (resolution.rep.n, resolution.rep.value) == (2, 15.5 * H)  # r3 6 h, r4 25 h
    assert (resolution.team.n, resolution.team.value) == (2, 7 * H)  # t3 10 h, t4 4 h


def test_empty_window(cases):
    org = cases
    empty = march(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 2, 1, tzinfo=UTC))
    result = kpi_rep_coaching(f=empty, now=NOW, rep_id=org.rep_a1.pk, min_n=1)
    for fig in result.figures:
        assert fig.rep.n == 0 and fig.team.n == 0
        if fig.vs_team is not None:
            assert fig.vs_team.expected is None and not fig.vs_team.meaningful
    assert result.mix == []
    assert figures(result)["volume"].team.value is None  # nobody resolved anything


def test_business_basis_uses_the_business_durations(cases):
    org = cases
    result = kpi_rep_coaching(f=march(basis="business"), now=NOW, rep_id=org.rep_a1.pk, min_n=1)
    stored = sorted(
        Case.objects.filter(
            resolved_by=org.rep_a1, resolved_at__gte=MARCH_START, resolved_at__lt=MARCH_END
        ).values_list("resolution_business_seconds", flat=True)
    )
    # r4 was resolved the next morning: its business time (9–17 Berlin) is not 25 h.
    assert stored != sorted(
        Case.objects.filter(external_id__in=["r1", "r2", "r3", "r4"]).values_list(
            "resolution_seconds", flat=True
        )
    )
    assert figures(result)["resolution_time"].rep.value == pytest.approx(sum(stored) / 4)


# --- larger sets, stored in bulk: histories folded with the real lifecycle rules ----------


@dataclass
class History:
    """One case: who it is assigned to, its cell, when it opens, and its events (hours
    after opening; actor: None = the assignee, or a Representative), with CSAT answers to
    resolutions (resolution number → (csat, hours after opening))."""

    assignee: object
    cell: dict
    opened: datetime
    steps: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)


def store(histories):
    """Bulk-store the cases (fields folded by cases.state), their events and answers."""
    cases, events, surveys = [], [], []
    for index, h in enumerate(histories):
        state = CaseState(
            status=CaseStatus.OPEN,
            opened_at=h.opened,
            assignee_id=h.assignee.pk,
            team_id=h.assignee.team_id,
            assigned_at=h.opened,
        )
        mine = [(T.ASSIGNED, h.opened, None)]
        for kind, hours, actor in h.steps:
            when = h.opened + timedelta(hours=hours)
            state = apply_event(
                state, event_type=kind, occurred_at=when, actor_id=actor.pk if actor else None
            )
            mine.append((kind, when, actor))
        fields = state.as_fields()
        for stamp, column in (
            ("first_response_at", "first_response"),
            ("resolved_at", "resolution"),
        ):
            seconds = round((fields[stamp] - h.opened).total_seconds()) if fields[stamp] else None
            fields[f"{column}_seconds"] = fields[f"{column}_business_seconds"] = seconds
        cases.append(Case(external_id=f"h{index}", **h.cell, **fields))
        events.append(mine)
    stored = Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            event_type=kind,
            occurred_at=when,
            actor=actor,
            assignee_id=case.assignee_id if kind == T.ASSIGNED else None,
        )
        for case, mine in zip(stored, events, strict=True)
        for kind, when, actor in mine
    )
    for case, h, mine in zip(stored, histories, events, strict=True):
        resolvers = [actor for kind, _, actor in mine if kind == T.RESOLVED]
        for number, (csat, hours) in h.answers.items():
            surveys.append(
                SurveyResponse(
                    case=case,
                    representative=resolvers[number - 1] or h.assignee,
                    resolution_number=number,
                    csat=csat,
                    responded_at=h.opened + timedelta(hours=hours),
                )
            )
    SurveyResponse.objects.bulk_create(surveys)
    return stored


def test_meaningful_differences_are_named_in_words(org):
    x = {"category": org.category, "channel": "email", "priority": "normal"}
    day = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    histories = []
    for i in range(20):
        opened = day + timedelta(days=i % 25, minutes=i)
        # A1: two responses each (no FCR), 10 h to resolve; half of them reopened once.
        steps = [(T.AGENT_RESPONSE, 1, None), (T.AGENT_RESPONSE, 2, None), (T.RESOLVED, 10, None)]
        if i % 2:
            steps += [(T.REOPENED, 11, None), (T.RESOLVED, 12, None)]
        histories.append(History(org.rep_a1, x, opened, steps))
        # Teammates: one response, resolved within 1–2 h, never reopened.
        histories.append(
            History(
                org.rep_a2,
                x,
                opened,
                [(T.AGENT_RESPONSE, 0.5, None), (T.RESOLVED, 1 + (i % 2), None)],
            )
        )
    store(histories)
    result = kpi_rep_coaching(f=march(), now=NOW, rep_id=org.rep_a1.pk, min_n=10)
    by_name = figures(result)
    assert by_name["resolution_time"].vs_team.meaningful
    assert by_name["resolution_time"].vs_team.statement.endswith(
        "— a statistically meaningful difference: longer."
    )
    assert by_name["fcr"].vs_team.meaningful and by_name["fcr"].vs_team.difference == -1.0
    assert by_name["reopen"].vs_team.meaningful
    assert not by_name["first_response_time"].vs_team.meaningful  # 1 h vs 0.5 h, sd 0
    assert by_name["csat"].vs_team.statement.startswith("CSAT satisfied share: not enough data")
    assert result.summary == (
        "Statistically meaningful differences from the team for the same mix of category, "
        "channel and priority: resolution time (longer), first contact resolution rate "
        "(lower), reopen rate (higher). No meaningful difference in: first response time, "
        "CSAT satisfied share."
    )


def test_case_mix_explains_a_raw_difference_away(org):
    """Simpson's paradox: A1 works the slow cell; the raw gap vanishes once mix-adjusted."""
    slow = {"category": org.category, "channel": "phone", "priority": "urgent"}
    fast = {"category": org.category, "channel": "email", "priority": "low"}
    day = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    histories = []
    for i in range(30):
        opened = day + timedelta(days=i % 20, minutes=i)
        hours = 2 if i % 3 else 4  # the same spread in every cell, for every rep
        histories.append(History(org.rep_a1, slow, opened, [(T.RESOLVED, 10 * hours, None)]))
        histories.append(History(org.rep_a2, fast, opened, [(T.RESOLVED, hours, None)]))
        if i < 9:  # a third of them 4 h, like every other cell
            histories.append(History(org.rep_a2, slow, opened, [(T.RESOLVED, 10 * hours, None)]))
    store(histories)
    result = kpi_rep_coaching(f=march(), now=NOW, rep_id=org.rep_a1.pk, min_n=10)
    resolution = figures(result)["resolution_time"]
    # Raw: A1 26.7 h against the team's 8.2 h; for A1's mix (all slow) the team's
    # expectation is its slow cell, ~26.7 h as well.
    assert resolution.rep.value > 2.5 * resolution.team.value
    assert resolution.vs_team.expected == pytest.approx(resolution.rep.value)
    assert resolution.vs_team.meaningful is False
    assert resolution.vs_team.unmatched_n == 0


# --- property: the SQL against a plain-Python reference ----------------------------------

WINDOW_BASE = datetime(2026, 3, 1, tzinfo=UTC)
PROPERTY_NOW = datetime(2026, 4, 3, 12, 0, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "UTC"]

# A case: assignee (0 A1, 1 A2, 2 manager A, 3 B1), cell (0–3), when it opens (hours after
# WINDOW_BASE − 2 days, in half-hours), and its steps: (kind, half-hours after the previous
# step, actor: 0 the assignee / 1 A1 / 2 nobody), plus an answer per resolution or None.
steps_strategy = st.lists(
    st.tuples(
        st.sampled_from(["respond", "resolve"]),
        st.integers(1, 60),
        st.integers(0, 2),
        st.none() | st.integers(1, 5),
    ),
    max_size=5,
)
histories_strategy = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 36 * 48), steps_strategy),
    max_size=16,
)


def build(org, generated):
    people = [org.rep_a1, org.rep_a2, org.manager_a, org.rep_b1]
    cells = [
        {"category": org.category, "channel": "email", "priority": "normal"},
        {"category": org.category, "channel": "chat", "priority": "high"},
        {"category": org.shipping, "channel": "email", "priority": "normal"},
        {"category": org.shipping, "channel": "chat", "priority": "high"},
    ]
    histories = []
    for who, cell, opened_steps, steps in generated:
        opened = WINDOW_BASE - timedelta(days=2) + opened_steps * timedelta(minutes=30)
        h = History(people[who], cells[cell], opened)
        status, elapsed, resolutions = "open", 0.0, 0
        for kind, gap, acting, answer in steps:
            elapsed += gap / 2
            if opened + timedelta(hours=elapsed) >= PROPERTY_NOW:
                break
            actor = [None, org.rep_a1, None][acting]
            if kind == "respond":
                if status == "resolved":
                    h.steps.append((T.REOPENED, elapsed, None))
                    elapsed += 0.25
                    status = "open"
                h.steps.append((T.AGENT_RESPONSE, elapsed, actor))
            else:
                if status == "resolved":
                    h.steps.append((T.REOPENED, elapsed, None))
                    elapsed += 0.25
                h.steps.append((T.RESOLVED, elapsed, actor))
                status = "resolved"
                resolutions += 1
                if answer is not None:
                    h.answers[resolutions] = (answer, elapsed + 6)
        histories.append(h)
    return histories


def reference(org, histories, stored, periods):
    """Plain Python: each figure's (cell, value) pairs per (period, side), as defined."""
    facts = []  # (figure, when, who, the case's team, cell, value)
    for h, case in zip(histories, stored, strict=True):
        cell = (case.category_id, case.channel, case.priority)

        def add(figure, when, who, value, case=case, cell=cell):
            facts.append((figure, when, who, case.team_id, cell, value))

        if case.resolved_at:
            who = case.resolved_by_id
            add(
                "resolution_time",
                case.resolved_at,
                who,
                (case.resolved_at - case.opened_at).total_seconds(),
            )
            if case.agent_response_count:  # zero-touch cases are outside FCR
                fcr = case.agent_response_count == 1 and case.reopened_count == 0
                add("fcr", case.resolved_at, who, float(fcr))
            add("reopen", case.resolved_at, who, float(case.reopened_count > 0))
        if case.first_response_at:
            add(
                "first_response_time",
                case.first_response_at,
                case.first_responder_id,
                (case.first_response_at - case.opened_at).total_seconds(),
            )
        resolvers = [(actor or h.assignee).pk for kind, _, actor in h.steps if kind == T.RESOLVED]
        for number, (csat, hours) in h.answers.items():
            add("csat", h.opened + timedelta(hours=hours), resolvers[number - 1], float(csat >= 4))
    out = {}
    for figure, when, who, team, cell, value in facts:
        for period, (start, end) in periods.items():
            if not start <= when < end:
                continue
            if who == org.rep_a1.pk:
                side = "rep"
            elif period == "window" and team == org.team_a.pk:
                side = "team"
            else:
                continue
            out.setdefault((figure, period, side), []).append((cell, value))
    return out


def mean(values):
    return sum(values) / len(values) if values else None


def expected_for_mix(rep, team):
    """Indirect standardisation: the team's cell means over the rep's cases."""
    if not rep or not team:
        return None
    overall = mean([v for _, v in team])
    by_cell = {}
    for cell, value in team:
        by_cell.setdefault(cell, []).append(value)
    return mean([mean(by_cell[cell]) if cell in by_cell else overall for cell, _ in rep])


def z_for(kind, first, second, second_value):
    if not first or not second or second_value is None:
        return None
    a, b = [v for _, v in first], [v for _, v in second]
    if kind == "rate":
        return two_proportion_z(round(sum(a)), len(a), second_value * len(b), len(b))
    if len(a) < 2 or len(b) < 2:
        return None
    variance = sd(a) ** 2 / len(a) + sd(b) ** 2 / len(b)
    return (mean(a) - second_value) / math.sqrt(variance) if variance else None


def approx(value):
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-6)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    generated=histories_strategy,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(-1, 20),
    length=st.integers(1, 20),
    min_n=st.integers(1, 4),
)
def test_matches_a_plain_python_reference(org, generated, zone, first_day, length, min_n):
    Case.objects.all().delete()
    if not hasattr(org, "shipping"):
        from tests.factories import CategoryFactory

        org.shipping = CategoryFactory(slug="shipping", name="Shipping")
    histories = build(org, generated)
    stored = store(histories)
    tz = ZoneInfo(zone)
    day0 = WINDOW_BASE.date() + timedelta(days=first_day)

    def midnight(day):
        return datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)

    f = KpiFilter(start=midnight(day0), end=midnight(day0 + timedelta(days=length)), tz=tz)
    this_month = PROPERTY_NOW.astimezone(tz).date().replace(day=1)
    periods = {
        "window": (f.start, f.end),
        "this_month": (midnight(this_month), midnight(this_month.replace(month=5))),
        "last_month": (midnight(this_month.replace(month=3)), midnight(this_month)),
    }
    result = kpi_rep_coaching(f=f, now=PROPERTY_NOW, rep_id=org.rep_a1.pk, min_n=min_n)
    ref = reference(org, histories, stored, periods)

    for fig in result.figures:
        source = "reopen" if fig.kind == "count" else fig.figure
        rep, team = ref.get((source, "window", "rep"), []), ref.get((source, "window", "team"), [])
        this, last = (
            ref.get((source, "this_month", "rep"), []),
            ref.get((source, "last_month", "rep"), []),
        )
        assert (fig.rep.n, fig.team.n) == (len(rep), len(team)), fig.figure
        assert (fig.month_on_month.this_month.n, fig.month_on_month.last_month.n) == (
            len(this),
            len(last),
        )
        if fig.kind == "count":
            continue
        values = [v for _, v in rep]
        assert fig.rep.value == (approx(mean(values)) if len(rep) >= min_n else None)
        assert fig.team.value == approx(mean([v for _, v in team]))  # a group: always shown
        if fig.kind == "duration" and len(rep) >= min_n:
            ordered = sorted(values)
            middle = len(ordered) // 2
            median = (
                ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
            )
            assert fig.rep.median == approx(median)
        expected = expected_for_mix(rep, team)
        comparable = len(rep) >= min_n and len(team) >= min_n
        assert fig.vs_team.expected == (approx(expected) if comparable else None), fig.figure
        z = z_for(fig.kind, rep, team, expected) if comparable else None
        assert fig.vs_team.z == approx(z), fig.figure
        assert fig.vs_team.meaningful == (z is not None and abs(z) >= 1.96)
        month_comparable = len(this) >= min_n and len(last) >= min_n
        month_z = (
            z_for(fig.kind, this, last, mean([v for _, v in last])) if month_comparable else None
        )
        assert fig.month_on_month.z == approx(month_z), fig.figure
