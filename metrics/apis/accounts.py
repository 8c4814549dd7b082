"""KPI endpoints: accounts (to be built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
