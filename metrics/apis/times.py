"""KPI endpoints: times (to be built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
