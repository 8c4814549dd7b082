"""Pagination: page numbers for small resources, a cursor for the case list."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request


class DefaultPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CaseCursorPagination(CursorPagination):
    """Stable cursor over (-opened_at, -id): new cases never shift the page a client is on."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-opened_at", "-id")
    ordering_choices = {
        "-opened_at": ("-opened_at", "-id"),
        "opened_at": ("opened_at", "id"),
    }

    def get_ordering(self, request: Request, queryset, view) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
        requested = request.query_params.get("ordering", "-opened_at")
        if requested not in self.ordering_choices:
            choices = ", ".join(sorted(self.ordering_choices))
            raise ValidationError(
                {"ordering": [f"Unknown ordering {requested!r}; use one of {choices}."]}
            )
        return self.ordering_choices[requested]
