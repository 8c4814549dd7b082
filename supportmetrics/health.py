"""Liveness/readiness: answers 200 when the database answers, 503 otherwise."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from supportmetrics.outages import RETRY_AFTER_SECONDS


def health(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means "not ready"
        response = JsonResponse({"status": "unavailable", "database": "down"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok", "database": "up"})


urlpatterns = [path("", health, name="health")]
