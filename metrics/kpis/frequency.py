"""Submission frequency: accounts and requesters who come back with the same problem.

Definitions (docs/metrics.md#repeat-contacts):
- A case opened in the window is a *repeat* (account-based) when an earlier case of the
  same account and the same category was opened at most ``within_days`` × 24 h before it;
  requester-based likewise with the requester's e-mail address (case-insensitive) in place
  of the account. "Earlier" orders cases by (opened_at, id), so of two cases opened at the
  same instant the second one is the repeat.
- The earlier case may lie before the window and outside the slice (another team, rep or
  channel): the customer came back whoever answered them. Only the repeat itself has to be
  in the window and in the slice.
- Rate = repeats / all cases of the slice opened in the window (cases without an account,
  or without a requester e-mail, count in the denominator and never as repeats; how many
  carry one is reported as ``identified``).
- The previous case is found with ``lag()`` over (account, category) and (requester,
  category) partitions of the cases opened in [start − within_days, end): unsliced, all of
  them; sliced, only the partitions that have a case of the slice in the window, found by
  hash joins (no range join of cases against cases, no per-row subplan). One statement.

Requester e-mail addresses are personal data: the lists identify a requester by a keyed,
stable pseudonym (``requester_pseudonym``) and the account of their latest case; the
address itself is returned only when the caller asks for it (admins, see the API).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.crypto import salted_hmac

from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import wilson_interval
from metrics.types import KpiFilter

DEFINITION_VERSION = 1
DEFAULT_WITHIN_DAYS = 7
MAX_WITHIN_DAYS = 90
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PSEUDONYM_SALT = "supportmetrics.metrics.repeat_contacts.requester"
PSEUDONYM_LENGTH = 16


@dataclass(frozen=True)
class RepeatRate:
    """Share of the window's cases that repeat an earlier same-category case."""

    basis: str  # "account" or "requester"
    n: int  # cases of the slice opened in the window: the denominator
    identified: int  # of which carry an account (or a requester e-mail)
    repeats: int
    value: float | None
    low: float | None
    high: float | None
    insufficient_data: bool


@dataclass(frozen=True)
class RepeatAccount:
    account_id: int
    external_id: str
    name: str
    n: int  # the account's cases of the slice opened in the window
    repeats: int
    categories: list[str]  # slugs of the categories it came back with


@dataclass(frozen=True)
class RepeatRequester:
    pseudonym: str
    email: str | None  # only when include_email=True
    account_id: int | None  # the account of the requester's latest case in the window
    account_external_id: str | None
    account_name: str | None
    n: int
    repeats: int
    categories: list[str]


@dataclass(frozen=True)
class RepeatContactsResult:
    within_days: int
    account_rate: RepeatRate
    requester_rate: RepeatRate
    accounts: list[RepeatAccount]
    accounts_total: int  # accounts with at least one repeat (the list is capped by limit)
    requesters: list[RepeatRequester]
    requesters_total: int


def requester_pseudonym(email: str) -> str:
    """A short keyed hash of the normalised address: stable across requests and reports
    (same SECRET_KEY), not reversible without the key, and never the address itself."""
    digest = salted_hmac(PSEUDONYM_SALT, email.strip().lower(), algorithm="sha256")
    return digest.hexdigest()[:PSEUDONYM_LENGTH]


# Which cases the lag() partitions are built from. Unsliced (an admin), every case of
# [lookback, end): the window's cases are all counted, so nearly every partition matters
# and restricting them would only add work. Sliced, the slice's window cases plus every
# case of [lookback, end) of a partition one of them belongs to, whatever its slice (an
# earlier case of another team still counts); the partitions are joined (hash joins that
# spill to disk when large), never tested with ``(a, b) IN (SELECT …)`` inside an OR,
# which PostgreSQL cannot hash once the key list outgrows work_mem (83 s at 1M cases).
ALL_CASES_SOURCE = """
WITH source AS (
    SELECT c.* FROM cases_case c
     WHERE c.opened_at >= %(lookback)s AND c.opened_at < %(end)s
),
"""

SLICED_SOURCE = """
WITH keys AS MATERIALIZED (
    SELECT c.account_id, c.category_id, nullif(lower(c.requester_email), '') AS requester
      FROM cases_case c
     WHERE {slice} AND c.opened_at >= %(start)s AND c.opened_at < %(end)s
),
candidates AS (
    SELECT c.id FROM cases_case c
     WHERE {slice} AND c.opened_at >= %(start)s AND c.opened_at < %(end)s
    UNION
    SELECT c.id
      FROM cases_case c
      JOIN (SELECT DISTINCT account_id, category_id FROM keys
             WHERE account_id IS NOT NULL) k
        ON k.account_id = c.account_id AND k.category_id = c.category_id
     WHERE c.opened_at >= %(lookback)s AND c.opened_at < %(end)s
    UNION
    SELECT c.id
      FROM cases_case c
      JOIN (SELECT DISTINCT requester, category_id FROM keys
             WHERE requester IS NOT NULL) k
        ON k.requester = lower(c.requester_email) AND k.category_id = c.category_id
     WHERE c.opened_at >= %(lookback)s AND c.opened_at < %(end)s
),
source AS (
    SELECT c.* FROM cases_case c WHERE c.id IN (SELECT id FROM candidates)
),
"""

# The window's cases of the slice, flagged as repeats: a case repeats when the previous
# case of its partition (by (opened_at, id)) lies within ``within``. Cases without an
# account (or address) share a NULL partition of strangers: the flags require the key.
FLAGGED_CTE = """
lagged AS (
    SELECT c.id, c.opened_at, c.account_id, c.category_id,
           nullif(lower(c.requester_email), '') AS requester,
           ({slice} AND c.opened_at >= %(start)s) AS counted,
           lag(c.opened_at) OVER (PARTITION BY c.account_id, c.category_id
                                  ORDER BY c.opened_at, c.id) AS previous_for_account,
           -- Byte order ("C"): any total order groups equal keys, and it sorts faster.
           lag(c.opened_at) OVER (PARTITION BY lower(c.requester_email) COLLATE "C",
                                               c.category_id
                                  ORDER BY c.opened_at, c.id) AS previous_for_requester
      FROM source c
),
flagged AS MATERIALIZED (
    SELECT l.id, l.opened_at, l.account_id, l.category_id, l.requester,
           l.account_id IS NOT NULL AND coalesce(
             l.previous_for_account >= l.opened_at - make_interval(secs => %(within)s), false)
             AS account_repeat,
           l.requester IS NOT NULL AND coalesce(
             l.previous_for_requester >= l.opened_at - make_interval(secs => %(within)s), false)
             AS requester_repeat
      FROM lagged l
     WHERE l.counted
)"""

REPEATS_SQL = (
    FLAGGED_CTE
    + """,
rates AS (
    SELECT count(*) AS rate_n,
           count(*) FILTER (WHERE account_id IS NOT NULL) AS account_identified,
           count(*) FILTER (WHERE account_repeat) AS account_repeats,
           count(*) FILTER (WHERE requester IS NOT NULL) AS requester_identified,
           count(*) FILTER (WHERE requester_repeat) AS requester_repeats
      FROM flagged
),
per_account AS (
    SELECT 'account' AS kind, f.account_id, NULL::text AS requester,
           count(*) AS n,
           count(*) FILTER (WHERE f.account_repeat) AS repeats,
           array_agg(DISTINCT cat.slug ORDER BY cat.slug) FILTER (WHERE f.account_repeat)
             AS categories
      FROM flagged f JOIN cases_category cat ON cat.id = f.category_id
     WHERE f.account_id IS NOT NULL
     GROUP BY f.account_id
    HAVING count(*) FILTER (WHERE f.account_repeat) > 0
),
per_requester AS (
    SELECT 'requester' AS kind,
           (array_agg(f.account_id ORDER BY f.opened_at DESC, f.id DESC))[1] AS account_id,
           f.requester,
           count(*) AS n,
           count(*) FILTER (WHERE f.requester_repeat) AS repeats,
           array_agg(DISTINCT cat.slug ORDER BY cat.slug) FILTER (WHERE f.requester_repeat)
             AS categories
      FROM flagged f JOIN cases_category cat ON cat.id = f.category_id
     WHERE f.requester IS NOT NULL
     GROUP BY f.requester
    HAVING count(*) FILTER (WHERE f.requester_repeat) > 0
),
listed AS (
    SELECT l.*, a.external_id, a.name,
           row_number() OVER (PARTITION BY l.kind
                              ORDER BY l.repeats DESC, l.n DESC, a.name, l.account_id,
                                       md5(l.requester)) AS position,
           count(*) OVER (PARTITION BY l.kind) AS total
      FROM (SELECT * FROM per_account UNION ALL SELECT * FROM per_requester) l
      LEFT JOIN cases_account a ON a.id = l.account_id
)
-- The rates on every row; one row with kind NULL when neither list has a row.
SELECT r.*, l.*
  FROM rates r
  LEFT JOIN (SELECT * FROM listed WHERE position <= %(limit)s) l ON TRUE
 ORDER BY l.kind, l.position
"""
)


def _params(f: KpiFilter, within_days: int) -> tuple[str, dict[str, Any]]:
    condition, params = slice_sql(f, alias="c")
    within = timedelta(days=within_days)
    return condition, {
        "start": f.start,
        "end": f.end,
        "lookback": f.start - within,
        "within": within.total_seconds(),
        **params,
    }


def _rate(basis: str, n: int, identified: int, repeats: int, min_n: int) -> RepeatRate:
    if n < min_n:
        return RepeatRate(basis, n, identified, repeats, None, None, None, True)
    interval = wilson_interval(repeats, n)
    return RepeatRate(
        basis, n, identified, repeats, interval.value, interval.low, interval.high, False
    )


def kpi_repeat_contacts(
    *,
    f: KpiFilter,
    now: datetime,
    within_days: int = DEFAULT_WITHIN_DAYS,
    limit: int = DEFAULT_LIMIT,
    min_n: int = 10,
    include_email: bool = False,
) -> RepeatContactsResult:
    """Repeat contacts in the window: the two rates, and the accounts and requesters that
    came back with the same category within ``within_days`` days, most repeats first.

    ``now`` is accepted for symmetry with the other KPIs: the figure depends only on the
    window. ``include_email`` adds requester addresses to the list (admins only).
    """
    condition, params = _params(f, within_days)
    source = ALL_CASES_SOURCE if condition == "TRUE" else SLICED_SOURCE
    sql = (source + REPEATS_SQL).format(slice=condition)
    rows = fetch_dicts(sql, {**params, "limit": limit})
    head = rows[0]  # the rates row is always there, with or without list rows
    account_rate = _rate(
        "account", head["rate_n"], head["account_identified"], head["account_repeats"], min_n
    )
    requester_rate = _rate(
        "requester", head["rate_n"], head["requester_identified"], head["requester_repeats"], min_n
    )
    accounts = [
        RepeatAccount(
            account_id=r["account_id"],
            external_id=r["external_id"],
            name=r["name"],
            n=r["n"],
            repeats=r["repeats"],
            categories=list(r["categories"]),
        )
        for r in rows
        if r["kind"] == "account"
    ]
    requesters = [  # ≤ limit already-aggregated rows
        RepeatRequester(
            pseudonym=requester_pseudonym(r["requester"]),
            email=r["requester"] if include_email else None,
            account_id=r["account_id"],
            account_external_id=r["external_id"],
            account_name=r["name"],
            n=r["n"],
            repeats=r["repeats"],
            categories=list(r["categories"]),
        )
        for r in rows
        if r["kind"] == "requester"
    ]

    def total(kind: str) -> int:
        return next((r["total"] for r in rows if r["kind"] == kind), 0)

    return RepeatContactsResult(
        within_days=within_days,
        account_rate=account_rate,
        requester_rate=requester_rate,
        accounts=accounts,
        accounts_total=total("account"),
        requesters=requesters,
        requesters_total=total("requester"),
    )
