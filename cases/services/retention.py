"""Retention of personal data: what a case closed long ago keeps about its requester.

A case resolved or closed more than ``PERSONAL_DATA_RETENTION_DAYS`` ago loses the
requester's name, the survey comments, the detractor alert notes and the text of the emails
about it (outbox subject, bodies, last error). Its requester address becomes the keyed
pseudonym ``<requester_hash>@erased.invalid`` (``cases.requesters.requester_hash``, the key
invitations and opt-outs already use): equal addresses stay equal, so repeat contacts and
every other figure are unchanged, while the address itself is gone.

An address is only pseudonymized once every case that carries it is past the retention age:
repeat contacts compare a case with the same requester's earlier cases (up to 90 days back),
and a newer case still holds the real address. Such cases lose the other fields and keep
the address until the requester's last case ages out (``addresses_deferred``).

Set-based: a few statements per batch of case ids, one transaction per batch; rerunning
finds nothing left to erase.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

ERASED_DOMAIN = "erased.invalid"
BATCH_SIZE = 20_000

# A case past retention: resolved or closed (closed_at if closed) before the cutoff.
_AGED = (
    "{c}.status IN ('resolved', 'closed') AND COALESCE({c}.closed_at, {c}.resolved_at) < %(cutoff)s"
)
_ERASED_EMAIL = f"%%@{ERASED_DOMAIN}"


@dataclass
class PersonalDataPurgeReport:
    """What a purge erased (or, in a dry run, would erase)."""

    cutoff: datetime
    dry_run: bool
    cases: int = 0
    names: int = 0
    addresses_pseudonymized: int = 0
    addresses_deferred: int = 0
    survey_comments: int = 0
    alert_notes: int = 0
    outbound_emails: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "cases": self.cases,
            "names": self.names,
            "addresses_pseudonymized": self.addresses_pseudonymized,
            "addresses_deferred": self.addresses_deferred,
            "survey_comments": self.survey_comments,
            "alert_notes": self.alert_notes,
            "outbound_emails": self.outbound_emails,
            "batches": self.batches,
        }


def _hmac_pads() -> tuple[bytes, bytes]:
    """The inner and outer HMAC-SHA256 keys of ``requester_hash`` (Django's salted_hmac:
    key = sha256(salt + secret)), so that PostgreSQL's sha256() computes the same HMAC."""
    key = hashlib.sha256(
        ("supportmetrics.requester" + str(settings.REQUESTER_HASH_KEY)).encode()
    ).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


_CASES_SQL = f"""
WITH target AS (
    SELECT c.id, c.requester_name <> '' AS has_name,
           (c.requester_email <> '' AND c.requester_email NOT LIKE '{_ERASED_EMAIL}') AS has_email,
           (c.requester_email <> '' AND c.requester_email NOT LIKE '{_ERASED_EMAIL}'
            AND lower(c.requester_email) NOT IN (SELECT address FROM retention_kept_addresses))
               AS pseudonymize
      FROM cases_case c
     WHERE c.id >= %(lo)s AND c.id < %(hi)s AND {_AGED.format(c="c")}
       AND (c.requester_name <> ''
            OR (c.requester_email <> '' AND c.requester_email NOT LIKE '{_ERASED_EMAIL}'))
), changed AS (
    UPDATE cases_case c
       SET requester_name = '',
           requester_email = CASE WHEN t.pseudonymize THEN
               encode(sha256(%(opad)s || sha256(%(ipad)s
                   || convert_to(lower(btrim(c.requester_email)), 'UTF8'))), 'hex')
               || '@{ERASED_DOMAIN}'
               ELSE c.requester_email END
      FROM target t
     WHERE c.id = t.id AND (t.has_name OR t.pseudonymize)
 RETURNING t.has_name, t.pseudonymize
)
SELECT (SELECT count(*) FROM changed),
       (SELECT count(*) FROM changed WHERE has_name),
       (SELECT count(*) FROM changed WHERE pseudonymize),
       (SELECT count(*) FROM target WHERE has_email AND NOT pseudonymize)
"""

_AGED_CASES = (
    "SELECT c.id FROM cases_case c WHERE c.id >= %(lo)s AND c.id < %(hi)s AND "
    + _AGED.format(c="c")
)

_COMMENTS_SQL = f"""
UPDATE cases_surveyresponse s SET comment = ''
 WHERE s.comment <> '' AND s.case_id IN ({_AGED_CASES})
"""

_NOTES_SQL = f"""
UPDATE cases_detractoralert a SET note = ''
 WHERE a.note <> '' AND a.case_id IN ({_AGED_CASES})
"""

_EMAILS_SQL = f"""
UPDATE cases_outboundemail e
   SET subject = '', body = '', html_body = '', last_error = ''
 WHERE (e.subject <> '' OR e.body <> '' OR e.html_body <> '' OR e.last_error <> '')
   AND (e.invitation_id IN (SELECT i.id FROM cases_surveyinvitation i
                             WHERE i.case_id IN ({_AGED_CASES}))
        OR e.alert_id IN (SELECT a.id FROM cases_detractoralert a
                           WHERE a.case_id IN ({_AGED_CASES})))
"""


def personal_data_purge(
    *,
    now: datetime,
    older_than_days: int | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> PersonalDataPurgeReport:
    """Erase the personal data of cases resolved or closed more than ``older_than_days``
    (default ``PERSONAL_DATA_RETENTION_DAYS``) before ``now``; see the module docstring.

    Batches of ``batch_size`` case ids, each in its own transaction (a dry run rolls each
    back, so its counts are exactly what a real run would erase). Idempotent.
    """
    days = settings.PERSONAL_DATA_RETENTION_DAYS if older_than_days is None else older_than_days
    if days < 1:
        raise ValueError("The retention age is at least one day.")
    cutoff = now - timedelta(days=days)
    report = PersonalDataPurgeReport(cutoff=cutoff, dry_run=dry_run)
    ipad, opad = _hmac_pads()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(id), max(id) FROM cases_case c WHERE {_AGED.format(c='c')}",
            {"cutoff": cutoff},
        )
        low, high = cursor.fetchone()
        if low is None:
            return report
        # Addresses some case still needs (not past retention): kept everywhere, this run.
        cursor.execute("DROP TABLE IF EXISTS retention_kept_addresses")
        cursor.execute(
            "CREATE TEMPORARY TABLE retention_kept_addresses AS "
            "SELECT DISTINCT lower(c.requester_email) AS address FROM cases_case c "
            f"WHERE c.requester_email <> '' AND NOT ({_AGED.format(c='c')})",
            {"cutoff": cutoff},
        )
        cursor.execute("ANALYZE retention_kept_addresses")
        try:
            for lo in range(low, high + 1, batch_size):
                params: dict[str, int | datetime | bytes] = {
                    "lo": lo,
                    "hi": lo + batch_size,
                    "cutoff": cutoff,
                    "ipad": ipad,
                    "opad": opad,
                }
                with transaction.atomic():
                    cursor.execute(_CASES_SQL, params)
                    cases, names, pseudonymized, deferred = cursor.fetchone()
                    # Emails first: they are found through the alerts, whose notes go next.
                    cursor.execute(_EMAILS_SQL, params)
                    report.outbound_emails += cursor.rowcount
                    cursor.execute(_COMMENTS_SQL, params)
                    report.survey_comments += cursor.rowcount
                    cursor.execute(_NOTES_SQL, params)
                    report.alert_notes += cursor.rowcount
                    report.cases += cases
                    report.names += names
                    report.addresses_pseudonymized += pseudonymized
                    report.addresses_deferred += deferred
                    report.batches += 1
                    if dry_run:
                        transaction.set_rollback(True)
        finally:
            cursor.execute("DROP TABLE IF EXISTS retention_kept_addresses")
    return report
