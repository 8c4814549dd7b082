"""Settings of the benchmark's gunicorn: production's, with static files under bench/tmp/.

The manifest storage needs ``collectstatic`` before the dashboard renders; the benchmark
collects into the git-ignored ``bench/tmp/static`` instead of the project's STATIC_ROOT, so
a run leaves no files where a deployment would look for them. Nothing else differs.
"""

from supportmetrics.env import BASE_DIR
from supportmetrics.settings.production import *  # noqa: F403

STATIC_ROOT = BASE_DIR / "bench" / "tmp" / "static"
