"""KPI endpoints: queue (to be built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
