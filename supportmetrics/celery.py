"""Celery application: eager in-process without a broker, Redis when CELERY_BROKER_URL is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportmetrics.settings.base")

app = Celery("supportmetrics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs are declared here, in code (see the survey and metrics issues).
app.conf.beat_schedule = {}
