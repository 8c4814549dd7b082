"""The demo organisation and the distributions cases are drawn from.

``build_world`` turns (seed, number of cases, now) into teams, representatives, accounts,
categories and the day-by-day weights that shape case volume. It is pure numpy: the same
arguments always give the same world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from cases.demo import reference as ref
from cases.demo.accounts import AccountRow, build_accounts, build_contacts, person
from cases.demo.calendar import Calendars, build_calendars, weekly_hours
from cases.demo.sampling import DAY, HOUR, RowSampler, utc

WINDOW_DAYS = 730


@dataclass(frozen=True)
class TeamRow:
    id: int
    key: str
    name: str
    timezone: str
    business_hours: dict[str, list[list[str]]]
    holiday_country: str
    holiday_subdivision: str
    closures: list[date]
    created_at: datetime


@dataclass(frozen=True)
class RepRow:
    id: int
    team_id: int
    username: str
    first_name: str
    last_name: str
    role: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class CategoryRow:
    id: int
    slug: str
    name: str
    description: str
    parent_id: int | None
    target_hours: int | None
    active: bool


@dataclass
class World:
    """Everything the case generator needs, plus the organisation rows to store."""

    seed: int
    now: int  # Unix seconds
    start: int  # Unix seconds of local day 0 (read as UTC midnight)
    n_days: int
    teams: list[TeamRow]
    reps: list[RepRow]
    accounts: list[AccountRow]
    categories: list[CategoryRow]
    cal: Calendars
    team_weight: np.ndarray
    team_manager: np.ndarray  # rep index of each team's manager
    team_members: np.ndarray  # (teams, max size) rep index of case-handling reps, -1 padded
    rep_sampler: RowSampler  # rows: day * teams + team
    rep_speed: np.ndarray
    rep_quality: np.ndarray
    rep_reopen: np.ndarray
    acc_team: np.ndarray
    acc_segment: np.ndarray  # index into accounts.SEGMENTS
    acc_churn_at: np.ndarray  # Unix seconds, -1 for active accounts
    acc_sampler: RowSampler  # rows: day
    acc_contact_off: np.ndarray
    acc_contact_n: np.ndarray
    consumer_off: int
    consumer_n: int
    contact_names: list[str]
    contact_emails: list[str]
    cat_sampler: RowSampler  # rows: day
    cat_props: dict[str, np.ndarray]
    subjects: list[str]
    subj_off: np.ndarray
    subj_n: np.ndarray
    day_p: np.ndarray
    hour_sampler: RowSampler = field(
        default_factory=lambda: RowSampler(np.array([ref.WEEKDAY_HOURS, ref.WEEKEND_HOURS]))
    )


def build_world(*, seed: int, cases: int, now: datetime) -> World:
    """The organisation and distributions for ``cases`` cases in the 2 years before ``now``."""
    rng = np.random.default_rng([seed, 0])
    now_s = int(now.timestamp())
    first_day = (now - timedelta(days=WINDOW_DAYS)).date()
    n_days = (now.date() - first_day).days + 1
    start = int(datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC).timestamp())
    dates = [first_day + timedelta(days=d) for d in range(n_days)]

    teams = _teams(rng, dates, start)
    cal = build_calendars(ref.TEAMS, first_day, n_days, [t.closures for t in teams])
    team_weight = np.array([spec.size for spec in ref.TEAMS], dtype=np.float64)
    reps, rep_arrays = _reps(rng, n_days, start)
    categories, cat_weights, cat_props = _categories(dates)
    accounts, acc_arrays = build_accounts(rng, cases, n_days, start, team_weight)
    contacts = build_contacts(rng, acc_arrays["domains"], acc_arrays["segment"])

    subjects: list[str] = []
    subj_off, subj_n = [], []
    for spec in ref.CATEGORIES:
        subj_off.append(len(subjects))
        subj_n.append(len(spec.subjects))
        subjects.extend(spec.subjects)

    base = _day_base(dates)
    day_cat = base[:, None] * cat_weights
    return World(
        seed=seed,
        now=now_s,
        start=start,
        n_days=n_days,
        teams=teams,
        reps=reps,
        accounts=accounts,
        categories=categories,
        cal=cal,
        team_weight=team_weight,
        team_manager=rep_arrays["manager"],
        team_members=rep_arrays["members"],
        rep_sampler=RowSampler(rep_arrays["availability"]),
        rep_speed=rep_arrays["speed"],
        rep_quality=rep_arrays["quality"],
        rep_reopen=rep_arrays["reopen"],
        acc_team=acc_arrays["team"],
        acc_segment=acc_arrays["segment"],
        acc_churn_at=acc_arrays["churn_at"],
        acc_sampler=RowSampler(acc_arrays["day_weights"]),
        acc_contact_off=contacts["off"],
        acc_contact_n=contacts["n"],
        consumer_off=contacts["consumer_off"],
        consumer_n=contacts["consumer_n"],
        contact_names=contacts["names"],
        contact_emails=contacts["emails"],
        cat_sampler=RowSampler(day_cat),
        cat_props=cat_props,
        subjects=subjects,
        subj_off=np.array(subj_off),
        subj_n=np.array(subj_n),
        day_p=day_cat.sum(axis=1) / day_cat.sum(),
    )


def _teams(rng: np.random.Generator, dates: list[date], start: int) -> list[TeamRow]:
    rows = []
    for i, spec in enumerate(ref.TEAMS):
        # One team offsite a year-ish: a closure day on a random weekday of the window.
        offsite = dates[int(rng.integers(30, len(dates) - 30))]
        offsite -= timedelta(days=max(0, offsite.weekday() - 4))
        rows.append(
            TeamRow(
                id=i + 1,
                key=spec.key,
                name=spec.name,
                timezone=spec.timezone,
                business_hours=weekly_hours(spec),
                holiday_country=spec.country,
                holiday_subdivision=spec.subdivision,
                closures=[offsite],
                created_at=utc(start - (1200 - 90 * i) * DAY),
            )
        )
    return rows


def _reps(rng: np.random.Generator, n_days: int, start: int) -> tuple[list[RepRow], dict]:
    """One manager and a handful of reps per team; a few joined late, a few have left."""
    rows: list[RepRow] = []
    team_of, hire, leave, managers, members = [], [], [], [], []
    for t, spec in enumerate(ref.TEAMS):
        key, size = spec.key, spec.size
        leaver = int(rng.integers(1, size + 1)) if rng.random() < 0.55 else -1
        late = int(rng.integers(1, size + 1)) if rng.random() < 0.8 else -1
        team_members = []
        for n in range(size + 1):
            first, last = person(rng)
            hire_day = -int(rng.integers(30, 1500))
            leave_day = n_days + 1
            if n == late and n != leaver:
                hire_day = int(rng.integers(60, n_days - 120))
            if n == leaver:
                leave_day = int(rng.integers(max(hire_day, 0) + 120, n_days - 20))
            username = f"mgr.{key}" if n == 0 else f"rep.{key}.{n}"
            role = "manager" if n == 0 else "rep"
            created = utc(start + hire_day * DAY + 9 * HOUR)
            rows.append(
                RepRow(len(rows) + 1, t + 1, username, first, last, role, n != leaver, created)
            )
            team_of.append(t)
            hire.append(hire_day)
            leave.append(leave_day)
            if n == 0:
                managers.append(len(rows) - 1)
            else:
                team_members.append(len(rows) - 1)
        members.append(team_members)

    n_reps = len(rows)
    width = max(len(m) for m in members)
    member_table = np.full((len(members), width), -1, dtype=np.int64)
    for t, m in enumerate(members):
        member_table[t, : len(m)] = m
    hire_a, leave_a = np.array(hire), np.array(leave)
    capacity = np.exp(0.25 * rng.standard_normal(n_reps))
    days = np.arange(n_days)[:, None, None]
    idx = np.maximum(member_table, 0)[None, :, :]
    available = (days >= hire_a[idx]) & (days < leave_a[idx]) & (member_table >= 0)[None]
    availability = (available * capacity[idx]).reshape(n_days * len(members), width)

    # A few reps are clearly slower and/or score lower; a few are stars. Coaching material.
    u = rng.random(n_reps)
    slow = u < 0.12
    weak = (u > 0.08) & (u < 0.19)
    star = u > 0.90
    speed = np.exp(0.15 * rng.standard_normal(n_reps))
    speed = np.where(slow, speed * rng.uniform(1.7, 2.3, n_reps), speed)
    speed = np.where(star, speed * 0.75, speed)
    quality = 0.12 * rng.standard_normal(n_reps)
    quality = np.where(weak, quality - rng.uniform(0.6, 1.0, n_reps), quality)
    quality = np.where(star, quality + 0.2, quality)
    reopen = 1.0 + 0.6 * weak + 0.3 * slow
    return rows, {
        "manager": np.array(managers),
        "members": member_table,
        "availability": availability,
        "speed": speed,
        "quality": quality,
        "reopen": reopen,
    }


def _categories(dates: list[date]) -> tuple[list[CategoryRow], np.ndarray, dict]:
    specs = ref.CATEGORIES
    ids = {spec.slug: i + 1 for i, spec in enumerate(specs)}
    n_days = len(dates)
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=np.float64)
    day_idx = np.arange(n_days)
    weights = np.zeros((n_days, len(specs)))
    rows = []
    for c, spec in enumerate(specs):
        w = np.full(n_days, spec.weight)
        if spec.peak_day is not None:
            dist = np.abs(doy - spec.peak_day)
            dist = np.minimum(dist, 365 - dist)
            w *= 1 + (spec.peak_factor - 1) * np.exp(-0.5 * (dist / spec.peak_width) ** 2)
        if spec.retired_after is not None:
            w[day_idx >= int(spec.retired_after * n_days)] = 0
        weights[:, c] = w
        rows.append(
            CategoryRow(
                id=c + 1,
                slug=spec.slug,
                name=spec.name,
                description=spec.description,
                parent_id=ids[spec.parent] if spec.parent else None,
                target_hours=spec.target_hours,
                active=spec.retired_after is None,
            )
        )
    props = {
        name: np.array([getattr(s, name) for s in specs], dtype=np.float64)
        for name in ("one_touch", "duration", "reopen", "csat", "urgent_bias")
    }
    return rows, weights, props


def _day_base(dates: list[date]) -> np.ndarray:
    """Volume of each day before categories: weekday, month, growth and holiday dips."""
    n = len(dates)
    weekday = np.array([ref.WEEKDAY_FACTOR[d.weekday()] for d in dates])
    month = np.array([ref.MONTH_FACTOR[d.month - 1] for d in dates])
    growth = 0.8 + 0.45 * np.arange(n) / n  # the customer base grew over the two years
    holiday = np.array(
        [0.45 if (d.month, d.day) in {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1)} else 1.0
         for d in dates]
    )  # fmt: skip
    return weekday * month * growth * holiday
