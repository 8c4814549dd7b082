"""KPI endpoints under /api/v1/metrics/: each API module declares its own urlpatterns."""

from metrics.apis import (
    accounts,
    backlog,
    coaching,
    csat,
    fcr,
    frequency,
    load,
    queue,
    recovery,
    seasonality,
    times,
)

app_name = "metrics"

urlpatterns = [
    *backlog.urlpatterns,
    *load.urlpatterns,
    *times.urlpatterns,
    *fcr.urlpatterns,
    *frequency.urlpatterns,
    *seasonality.urlpatterns,
    *queue.urlpatterns,
    *accounts.urlpatterns,
    *csat.urlpatterns,
    *coaching.urlpatterns,
    *recovery.urlpatterns,
]
