from django.urls import path

from metrics.apis.backlog import KpiBacklogApi, KpiBacklogRepHistoryApi

app_name = "metrics"

urlpatterns = [
    path("backlog/", KpiBacklogApi.as_view(), name="kpi-backlog"),
    path("backlog/reps/", KpiBacklogRepHistoryApi.as_view(), name="kpi-backlog-rep-history"),
]
