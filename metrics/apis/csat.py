"""KPI endpoints: csat (to be built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
