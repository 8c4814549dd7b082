"""The dashboard's figures: each page's panels, from the metrics KPI functions (no SQL here)."""

from dashboard.figures.accounts import accounts_panels
from dashboard.figures.alerts import recovery_panel
from dashboard.figures.coaching import CoachingPage, coaching_page
from dashboard.figures.overview import overview_panels
from dashboard.figures.seasonality import seasonality_panels

__all__ = [
    "CoachingPage",
    "accounts_panels",
    "coaching_page",
    "overview_panels",
    "recovery_panel",
    "seasonality_panels",
]
