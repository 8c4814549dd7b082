"""Detractor alerts for the demo: every poor answer raised one, and the team followed up.

Written with one INSERT … SELECT after the survey answers are loaded, so the alerts follow
the same rule as live ones (CSAT ≤ 2 or NPS ≤ 6, cases.services.alerts). The follow-up is
drawn from a hash of the answer's id, so the same seed gives the same alerts: a manager
makes first contact 1 to 71 hours after the answer (most within a day), about one in ten
alerts is never followed up, outcomes come two to three days after contact, and about two
thirds of closed alerts are recovered. Alerts whose follow-up lies after ``now`` are still
open or contacted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from cases.models import Case, DetractorAlert, Representative, SurveyResponse


def write_demo_alerts(cursor: Any, *, now: datetime) -> int:
    """Insert one alert per detractor answer; returns how many."""
    quote = connection.ops.quote_name
    alert, response = quote(DetractorAlert._meta.db_table), quote(SurveyResponse._meta.db_table)
    case, rep = quote(Case._meta.db_table), quote(Representative._meta.db_table)
    cursor.execute(
        f"""
        WITH detractor AS (
            SELECT s.id AS response_id, s.case_id, c.team_id, s.representative_id,
                   s.responded_at,
                   (hashint8(s.id) & 1023) / 1023.0 AS u1,
                   (hashint8(s.id * 7 + 3) & 1023) / 1023.0 AS u2,
                   (SELECT r.user_id FROM {rep} r
                    WHERE r.team_id = c.team_id AND r.role = 'manager'
                    ORDER BY r.id LIMIT 1) AS manager_user_id
            FROM {response} s JOIN {case} c ON c.id = s.case_id
            WHERE s.csat <= 2 OR s.nps <= 6
        ), timed AS (
            SELECT d.*,
                   d.responded_at + make_interval(secs => 3600 * (1 + 70 * d.u1 * d.u1))
                       AS contact_at,
                   make_interval(secs => 86400 * (2 + d.u2)) AS outcome_after
            FROM detractor d
        ), decided AS (
            SELECT t.*,
                   CASE
                       WHEN t.u2 < 0.10 OR t.contact_at > %(now)s THEN 'open'
                       WHEN t.contact_at + t.outcome_after > %(now)s THEN 'contacted'
                       WHEN t.u2 < 0.70 THEN 'recovered'
                       ELSE 'not_recovered'
                   END AS status
            FROM timed t
        )
        INSERT INTO {alert} (response_id, case_id, team_id, representative_id, status,
                             created_at, contacted_at, contacted_by_id, closed_at,
                             closed_by_id, note)
        SELECT response_id, case_id, team_id, representative_id, status, responded_at,
               CASE WHEN status <> 'open' THEN contact_at END,
               CASE WHEN status <> 'open' THEN manager_user_id END,
               CASE WHEN status IN ('recovered', 'not_recovered')
                    THEN contact_at + outcome_after END,
               CASE WHEN status IN ('recovered', 'not_recovered') THEN manager_user_id END,
               ''
        FROM decided
        ORDER BY responded_at, response_id
        """,
        {"now": now},
    )
    return cursor.rowcount
