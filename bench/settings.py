"""Settings of the benchmark's gunicorn: production's, with two differences.

- The manifest storage needs ``collectstatic`` before the dashboard renders; the benchmark
  collects into the git-ignored ``bench/tmp/static`` instead of the project's STATIC_ROOT,
  so a run leaves no files where a deployment would look for them, and without whitenoise's
  pre-compressed copies (30 s of brotli per run; the benchmark fetches no static file, and
  the pages' URLs are the same hashed names).
- ``BENCH_STATEMENT_TIMEOUT_MS`` (set by the benchmark) caps every statement, so a figure
  that takes minutes ends as a recorded time-out instead of running on and loading the
  database under the next measurements. KPI requests set their own statement timeout
  (``KPI_STATEMENT_TIMEOUT_MS``, 10 s by default), which would cut the figures that take
  minutes at 5M cases: here it is the benchmark's (none when the benchmark sets none).
- Rate limits are off: the benchmark measures what the application costs, with one user
  asking for figure after figure as fast as they come back.
"""

from supportmetrics.env import BASE_DIR, env
from supportmetrics.settings.production import *  # noqa: F403
from supportmetrics.settings.production import DATABASES

STATIC_ROOT = BASE_DIR / "bench" / "tmp" / "static"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}

_timeout = env.int("BENCH_STATEMENT_TIMEOUT_MS", default=0)
if _timeout:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c statement_timeout={_timeout}".strip()
KPI_STATEMENT_TIMEOUT_MS = _timeout
RATE_LIMIT_ENABLED = False
