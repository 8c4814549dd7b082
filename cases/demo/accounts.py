"""Customer accounts: long-tailed annual value, segments, churn, and their requesters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from cases.demo import reference as ref
from cases.demo.sampling import DAY, HOUR, choice, utc

SEGMENTS = ("smb", "mid_market", "enterprise")
CHURN_SHARE = 0.08
PRE_CHURN_DAYS = 120
# Churning accounts file this many times their usual volume in the months before leaving.
PRE_CHURN_VOLUME = 2.4


@dataclass(frozen=True)
class AccountRow:
    id: int
    external_id: str
    name: str
    annual_value: int
    segment: str
    churned_at: datetime | None
    created_at: datetime


def person(rng: np.random.Generator) -> tuple[str, str]:
    """A (first name, last name) pair."""
    return (
        ref.FIRST_NAMES[rng.integers(len(ref.FIRST_NAMES))],
        ref.LAST_NAMES[rng.integers(len(ref.LAST_NAMES))],
    )


def build_accounts(
    rng: np.random.Generator, cases: int, n_days: int, start: int, team_weight: np.ndarray
) -> tuple[list[AccountRow], dict]:
    """Accounts with a long-tailed annual value; segment follows value; ~8% churned."""
    n = int(np.clip(cases // 25, 200, 2000))
    value = np.clip(np.round(np.exp(rng.normal(9.7, 1.25, n)), -1), 600, 5_000_000)
    z = np.log(value) + rng.normal(0, 0.35, n)
    segment = np.where(z < np.log(30_000), 0, np.where(z > np.log(200_000), 2, 1))
    team = choice(rng, team_weight, n)
    in_window = rng.random(n) < 0.28
    created_day = np.where(in_window, rng.integers(0, n_days - 60, n), -rng.integers(30, 2000, n))
    eligible = np.flatnonzero(np.maximum(created_day, 0) + 200 < n_days - 3)
    churned = rng.choice(eligible, size=min(len(eligible), round(CHURN_SHARE * n)), replace=False)
    churn_day = np.full(n, -1)
    lo = np.maximum(created_day[churned], 0) + 200
    churn_day[churned] = lo + (rng.random(len(churned)) * (n_days - 3 - lo)).astype(np.int64)
    # Churn is recorded in the afternoon UTC, after any case of the previous local day.
    churn_at = np.where(
        churn_day >= 0, start + churn_day * DAY + rng.integers(12 * HOUR, 20 * HOUR, n), -1
    )

    days = np.arange(n_days)[:, None]
    activity = value**0.55 * np.exp(rng.normal(0, 0.45, n))
    live = (days >= created_day) & ((churn_day < 0) | (days < churn_day))
    pre_churn = (churn_day >= 0) & (days >= churn_day - PRE_CHURN_DAYS) & (days < churn_day)
    day_weights = activity * live * np.where(pre_churn, PRE_CHURN_VOLUME, 1.0)

    names = _company_names(rng, n)
    rows = [
        AccountRow(
            id=i + 1,
            external_id=f"ACC-{i + 1:05d}",
            name=names[i][0],
            annual_value=int(value[i]),
            segment=SEGMENTS[segment[i]],
            churned_at=utc(churn_at[i]) if churn_at[i] >= 0 else None,
            created_at=utc(start + created_day[i] * DAY - 2 * DAY + 10 * HOUR),
        )
        for i in range(n)
    ]
    return rows, {
        "team": team,
        "churn_at": churn_at,
        "day_weights": day_weights,
        "segment": segment,
        "domains": [domain for _, domain in names],
    }


def _company_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    quals = ("", "Group", "Partners", "Systems", "International", "Solutions", "Works")
    words, nouns = ref.COMPANY_WORDS, ref.COMPANY_NOUNS
    picks = rng.choice(len(words) * len(nouns) * len(quals), size=n, replace=False)
    out = []
    for p in picks.tolist():
        w, rest = divmod(p, len(nouns) * len(quals))
        k, q = divmod(rest, len(quals))
        base = " ".join(x for x in (words[w], nouns[k], quals[q]) if x)
        form = ref.COMPANY_FORMS[int(rng.integers(len(ref.COMPANY_FORMS)))]
        out.append((base + form, ref.ascii_fold(base).replace(" ", "-") + ".example.com"))
    return out


def build_contacts(rng: np.random.Generator, domains: list[str], segment: np.ndarray) -> dict:
    """A few requesters per account (more for big accounts) and a pool of consumers."""
    lam = np.array([1.5, 4.0, 12.0])[segment]
    floor = np.array([1, 3, 8])[segment]
    n_contacts = floor + rng.poisson(lam)
    names, emails = [], []
    for i, count in enumerate(n_contacts.tolist()):
        for _ in range(count):
            first, last = person(rng)
            names.append(f"{first} {last}")
            emails.append(f"{ref.ascii_fold(first)}.{ref.ascii_fold(last)}@{domains[i]}")
    consumer_off = len(names)
    consumer_n = 4000
    for _ in range(consumer_n):
        first, last = person(rng)
        domain = ref.CONSUMER_DOMAINS[int(rng.integers(len(ref.CONSUMER_DOMAINS)))]
        names.append(f"{first} {last}")
        emails.append(
            f"{ref.ascii_fold(first)}.{ref.ascii_fold(last)}{int(rng.integers(1, 100))}@{domain}"
        )
    return {
        "off": np.cumsum(n_contacts) - n_contacts,
        "n": n_contacts,
        "consumer_off": consumer_off,
        "consumer_n": consumer_n,
        "names": names,
        "emails": emails,
    }
