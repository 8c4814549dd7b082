"""KPI endpoints (see the metrics issue); empty until then."""

app_name = "metrics"
urlpatterns: list = []
