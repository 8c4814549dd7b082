"""The weekly coaching digest: one manager's team in figures, and who or what needs a look.

Contents (docs/operations.md#weekly-coaching-digest):
- the team's backlog now (open cases by age);
- FCR and the reopen rate of the cases resolved in the last four weeks, and CSAT (the
  satisfied share, 4–5 of 5, and the mean) of the answers received in them, each with its
  95% interval and sample size;
- reps needing attention, by a coaching criterion — never a ranking: a rep whose satisfied
  share stays below the team's even at the top of its interval (only reps with at least
  ``min_n`` answers have an interval), or who has detractor alerts nobody has contacted yet.
  Reps are listed alphabetically, with the reason;
- accounts needing attention: the team's accounts (a case in the risk period or open now)
  whose last nightly risk score is at least ``ACCOUNT_ATTENTION_MIN_RISK``, highest first,
  with the factors that weigh most.

The four weeks end at 00:00 UTC on the digest's Monday, so a re-run that week reads the same
window. Built with the existing KPI functions; this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.template.loader import render_to_string

from cases.models import OPEN_STATUSES, Case, DetractorAlert, Representative
from metrics.kpis.backlog import kpi_backlog
from metrics.kpis.csat import Mean, kpi_csat_by_representative
from metrics.kpis.fcr import kpi_first_contact_resolution
from metrics.models import AccountRiskSnapshot
from metrics.stats import Proportion, default_min_n
from metrics.types import KpiFilter

WINDOW = timedelta(days=28)
ACCOUNT_ATTENTION_MIN_RISK = 40.0
ACCOUNTS_LISTED = 5

FACTOR_WORDS = {
    "volume_trend": "more contacts than the period before",
    "volume_vs_value": "many contacts for its value",
    "csat": "low CSAT",
    "detractors": "detractor answers",
    "reopens": "reopened cases",
    "open_backlog": "many cases open now",
}
AGE_WORDS = {
    "lt_1d": "under 1 day",
    "d1_3": "1–3 days",
    "d3_7": "3–7 days",
    "d7_30": "7–30 days",
    "gt_30d": "over 30 days",
}


@dataclass(frozen=True)
class RepNeedingAttention:
    rep_id: int
    name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AccountNeedingAttention:
    account_id: int
    name: str
    score: float
    cases: int
    open_now: int
    main_factors: tuple[str, ...]


@dataclass(frozen=True)
class CoachingDigest:
    manager_id: int
    manager_name: str
    team_id: int
    team_name: str
    week_monday: date
    start: datetime
    end: datetime
    now: datetime
    min_n: int
    open_now: int
    open_by_age: dict[str, int]
    resolved: int
    fcr: Proportion
    reopen_rate: Proportion
    responses: int
    satisfied: Proportion
    csat_mean: Mean
    reps: tuple[RepNeedingAttention, ...]
    accounts: tuple[AccountNeedingAttention, ...]
    risk_computed_at: datetime | None


def week_monday_of(now: datetime) -> date:
    """The Monday (UTC) of the week ``now`` falls in: the digest's week and dedupe key."""
    day = now.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def describe_proportion(p: Proportion) -> str:
    """ "72% (95% CI 61–81%, n=54)"; what is missing is said in words."""
    if p.insufficient_data:
        return f"insufficient data (n={p.n})"
    if p.value is None:
        return "no data (n=0)"
    low = "–" if p.low is None else f"{p.low * 100:.0f}"
    return f"{percent(p.value)} (95% CI {low}–{percent(p.high)}, n={p.n})"


def describe_mean(m: Mean) -> str:
    if m.insufficient_data:
        return f"insufficient data (n={m.n})"
    if m.value is None:
        return "no data (n=0)"
    if m.low is None or m.high is None:
        return f"{m.value:.2f} (n={m.n})"
    return f"{m.value:.2f} (95% CI {m.low:.2f}–{m.high:.2f}, n={m.n})"


def _reps_needing_attention(
    *, team_id: int, rows: list, team_satisfied: Proportion
) -> tuple[RepNeedingAttention, ...]:
    members = {
        rep.pk: rep.display_name
        for rep in Representative.objects.filter(
            team_id=team_id, role=Representative.Role.REP, active=True
        )
    }
    reasons: dict[int, list[str]] = {rep_id: [] for rep_id in members}
    for row in rows:
        satisfied: Proportion = row.figures.satisfied
        if (
            row.key in members
            and satisfied.high is not None
            and team_satisfied.value is not None
            and satisfied.high < team_satisfied.value
        ):
            reasons[row.key].append(
                f"satisfied share {describe_proportion(satisfied)} is below the team's "
                f"{percent(team_satisfied.value)} even at the top of its interval"
            )
    open_alerts = (
        DetractorAlert.objects.filter(
            status=DetractorAlert.Status.OPEN, representative_id__in=list(members)
        )
        .values("representative_id")
        .annotate(n=Count("id"))
    )
    for alert in open_alerts:
        n = alert["n"]
        reasons[alert["representative_id"]].append(
            f"{n} detractor alert{'s' if n != 1 else ''} not contacted yet"
        )
    flagged = [
        RepNeedingAttention(rep_id=rep_id, name=members[rep_id], reasons=tuple(why))
        for rep_id, why in reasons.items()
        if why
    ]
    # Alphabetical: a list of people to talk to, not a league table.
    return tuple(sorted(flagged, key=lambda r: (r.name.casefold(), r.rep_id)))


def _accounts_needing_attention(
    *, team_id: int, now: datetime
) -> tuple[tuple[AccountNeedingAttention, ...], datetime | None]:
    latest = AccountRiskSnapshot.objects.order_by("-computed_at").first()
    if latest is None:
        return (), None
    team_cases = Case.objects.filter(account_id=OuterRef("account_id"), team_id=team_id).filter(
        Q(opened_at__gte=latest.period_start, opened_at__lt=now) | Q(status__in=OPEN_STATUSES)
    )
    snapshots = (
        AccountRiskSnapshot.objects.filter(score__gte=ACCOUNT_ATTENTION_MIN_RISK)
        .filter(Exists(team_cases))
        .select_related("account")
        .order_by("-score", "account_id")[:ACCOUNTS_LISTED]
    )
    accounts = []
    for snapshot in snapshots:
        weighing = sorted(
            (f for f in snapshot.factors if f["points"] > 0),
            key=lambda f: (-f["points"], f["name"]),
        )[:2]
        accounts.append(
            AccountNeedingAttention(
                account_id=snapshot.account_id,
                name=snapshot.account.name,
                score=snapshot.score,
                cases=snapshot.cases,
                open_now=snapshot.open_now,
                main_factors=tuple(FACTOR_WORDS.get(f["name"], f["name"]) for f in weighing),
            )
        )
    return tuple(accounts), latest.computed_at


def coaching_digest_build(
    *, manager: Representative, week_monday: date, now: datetime
) -> CoachingDigest:
    """The figures of one manager's digest for the week of ``week_monday`` (see module doc)."""
    team = manager.team
    end = datetime.combine(week_monday, time(0), tzinfo=UTC)
    start = end - WINDOW
    f = KpiFilter(start=start, end=end, tz=ZoneInfo(team.timezone), team_ids=(team.pk,))
    min_n = default_min_n()
    backlog = kpi_backlog(f=f, now=now, group_by=None)
    fcr = kpi_first_contact_resolution(f=f, now=now).overall
    csat = kpi_csat_by_representative(f=f, now=now, group_by="rep", min_n=min_n)
    reps = _reps_needing_attention(
        team_id=team.pk, rows=csat.rows, team_satisfied=csat.overall.satisfied
    )
    accounts, risk_computed_at = _accounts_needing_attention(team_id=team.pk, now=now)
    return CoachingDigest(
        manager_id=manager.pk,
        manager_name=manager.display_name,
        team_id=team.pk,
        team_name=team.name,
        week_monday=week_monday,
        start=start,
        end=end,
        now=now,
        min_n=min_n,
        open_now=backlog.open_now,
        open_by_age=dict(backlog.age),
        resolved=fcr.resolved,
        fcr=fcr.fcr,
        reopen_rate=fcr.reopen_rate,
        responses=csat.overall.responses,
        satisfied=csat.overall.satisfied,
        csat_mean=csat.overall.csat_mean,
        reps=reps,
        accounts=accounts,
        risk_computed_at=risk_computed_at,
    )


def coaching_digest_render(digest: CoachingDigest) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of a digest, from the metrics/email templates."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    last_day = (digest.end - timedelta(days=1)).date()
    window = {"from": digest.start.date().isoformat(), "to": last_day.isoformat()}
    team = {"team": digest.team_id}
    context = {
        "digest": digest,
        "last_day": last_day,
        "ages": [(AGE_WORDS[key], n) for key, n in digest.open_by_age.items()],
        "fcr": describe_proportion(digest.fcr),
        "reopen_rate": describe_proportion(digest.reopen_rate),
        "satisfied": describe_proportion(digest.satisfied),
        "csat_mean": describe_mean(digest.csat_mean),
        "alerts_url": f"{base}/api/v1/alerts/?{urlencode({'status': 'open', **team})}",
        "csat_url": f"{base}/api/v1/metrics/csat/?{urlencode({**window, **team})}",
        "accounts_url": f"{base}/api/v1/metrics/accounts/?{urlencode(team)}",
        "min_risk": f"{ACCOUNT_ATTENTION_MIN_RISK:.0f}",
    }
    subject = f"Coaching digest for {digest.team_name}, week of {digest.week_monday:%d %b %Y}"
    body = render_to_string("metrics/email/coaching_digest.txt", context)
    html_body = render_to_string("metrics/email/coaching_digest.html", context)
    return subject, body, html_body
