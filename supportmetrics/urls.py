from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="index"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cases.urls")),
    path("s/", include("cases.survey_urls")),  # survey links in customer emails: short
    path("api/v1/metrics/", include("metrics.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", include("supportmetrics.health")),
]

handler400 = "supportmetrics.exceptions.handler400"
handler403 = "supportmetrics.exceptions.handler403"
handler404 = "supportmetrics.exceptions.handler404"
handler500 = "supportmetrics.exceptions.handler500"
