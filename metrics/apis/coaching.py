"""KPI endpoints: coaching (to be built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
