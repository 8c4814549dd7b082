"""Celery application: eager in-process without a broker, Redis when CELERY_BROKER_URL is set."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportmetrics.settings.base")

app = Celery("supportmetrics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs, in code (docs/operations.md). Times are UTC (CELERY_TIMEZONE). Every job is
# idempotent, so a beat that fires twice (two beat processes, a restart) costs nothing.
app.conf.beat_schedule = {
    # Re-dispatch emails the broker lost or never got; take back claims of dead workers.
    "outbox-sweep": {
        "task": "cases.tasks.outbox_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # The one reminder of a survey still unanswered after SURVEY_REMINDER_AFTER_DAYS.
    "survey-reminders": {
        "task": "cases.tasks.survey_reminders_enqueue",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    # Account risk recomputed into metrics.AccountRiskSnapshot, after the day has closed.
    "account-risk-refresh": {
        "task": "metrics.tasks.account_risk_snapshot_refresh",
        "schedule": crontab(hour=2, minute=30),
    },
    # The rollup tables recomputed from the cases: a safety net (the triggers keep them
    # exact); case writes wait for it (about a minute at 1M cases), so weekly, at night.
    "rollups-rebuild": {
        "task": "metrics.tasks.rollups_rebuild",
        "schedule": crontab(hour=3, minute=15, day_of_week="sun"),
    },
    # Idempotency keys past their 24 h replay period, and claims of requests that died.
    "idempotency-records-purge": {
        "task": "idempotency.tasks.idempotency_records_purge",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000},
    },
    # The weekly coaching digest to every active manager, Monday morning.
    "coaching-digest": {
        "task": "metrics.tasks.coaching_digest_enqueue",
        "schedule": crontab(hour=6, minute=0, day_of_week="mon"),
    },
    # Personal data of cases closed longer ago than PERSONAL_DATA_RETENTION_DAYS erased
    # (docs/hardening.md); idempotent, so a missed or doubled week costs nothing.
    "personal-data-purge": {
        "task": "cases.tasks.personal_data_purge",
        "schedule": crontab(hour=4, minute=30, day_of_week="sun"),
    },
}
