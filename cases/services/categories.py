"""Category configuration (admins)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from cases.models import Category


@transaction.atomic
def category_set_active(*, categories: QuerySet[Category], active: bool) -> int:
    """Activate or deactivate categories. Deactivating keeps every past case and figure."""
    return categories.exclude(active=active).update(active=active)
