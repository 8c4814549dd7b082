"""Rate limits shared by every worker: fixed-window counters in the cache (Redis in production).

Scopes (rates in ``settings.RATE_LIMITS``, docs/hardening.md "Limits"):

- API, per authenticated user: ``read`` (GET, HEAD, OPTIONS), ``write`` (other methods),
  ``bulk`` (bulk upsert and CSV import, whatever the method);
- per client IP: ``anon`` (API requests without a user), ``survey`` (the public survey API
  and pages), ``login`` (login form posts, dashboard and admin).

Why not DRF's ``SimpleRateThrottle``: it keeps a list of request times per client and
writes the whole list back after reading it, so two workers answering the same client at
once each drop the other's request from the count. Here a window's count is one key that
``cache.add`` creates (Redis ``SET NX`` with an expiry) and ``cache.incr`` raises (Redis
``INCR``, atomic on the server): no request is lost, whichever worker counts it. A fixed
window lets a client send up to twice the rate across a window edge; that is the price of
one key and two round trips per request, and good enough to stop floods and guessing.

The limiter fails open: when the cache does not answer, requests are served uncounted, the
cache is left alone for ``RATE_LIMIT_RETRY_SECONDS`` (so each request does not wait on a
dead server), and a warning is logged at most once a minute per process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Keys outlive their window by this much, so a worker whose clock is a little behind still
# counts into the live key instead of re-creating an expired one.
KEY_GRACE_SECONDS = 60
WARNING_INTERVAL_SECONDS = 60.0

# API views with their own scope, by URL name (the views themselves stay plain).
VIEW_SCOPES = {
    "cases:case-bulk-upsert": "bulk",
    "cases:case-import": "bulk",
    "cases:survey-answer": "survey",
}
# Pages outside DRF, limited per client IP by RateLimitMiddleware: {URL name: (scope, methods)}.
PAGE_SCOPES: dict[str, tuple[str, frozenset[str]]] = {
    "surveys:survey-page": ("survey", frozenset({"GET", "HEAD", "POST"})),
    "surveys:survey-unsubscribe": ("survey", frozenset({"GET", "HEAD", "POST"})),
    "dashboard:login": ("login", frozenset({"POST"})),
    "admin:login": ("login", frozenset({"POST"})),
}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


def parse_rate(text: str | None) -> Rate | None:
    """``"30/min"`` → Rate(30, 60), as DRF writes rates (period by its first letter: s, m, h,
    d). Empty, ``"0"`` or ``"off"`` → None: that scope is not limited."""
    if not text or text.strip().lower() in {"0", "off", "none"}:
        return None
    count, _, period = text.strip().partition("/")
    if not period or period[0].lower() not in PERIODS or not count.isdigit():
        raise ValueError(f"Invalid rate {text!r}: use N/s, N/min, N/hour or N/day.")
    return Rate(limit=int(count), period=PERIODS[period[0].lower()])


def _now() -> float:
    return time.time()


class _Breaker:
    """Per-process memory of a cache outage: skip the cache for a while, warn now and then."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.skip_until = 0.0
        self.warned_at = -math.inf

    def is_open(self, now: float) -> bool:
        return now < self.skip_until

    def trip(self, error: Exception, now: float) -> None:
        with self.lock:
            self.skip_until = now + settings.RATE_LIMIT_RETRY_SECONDS
            warn = now - self.warned_at >= WARNING_INTERVAL_SECONDS
            if warn:
                self.warned_at = now
        if warn:
            logger.warning(
                "Rate limiting is off: the cache does not answer (%s: %s). Requests are "
                "served uncounted; the cache is tried again in %s s.",
                type(error).__name__,
                error,
                settings.RATE_LIMIT_RETRY_SECONDS,
            )


breaker = _Breaker()


def hit(scope: str, ident: str, rate: Rate, *, cache: BaseCache | None = None) -> int | None:
    """Count one request of ``ident`` in ``scope``. None: allowed (or the cache is down);
    otherwise the seconds until the window ends and the client may try again."""
    now = _now()
    if breaker.is_open(now):
        return None
    window = int(now // rate.period)
    window_end = (window + 1) * rate.period
    key = f"rl:{scope}:{ident}:{window}"
    store = cache if cache is not None else caches[settings.RATE_LIMIT_CACHE]
    try:
        store.add(key, 0, timeout=math.ceil(window_end - now) + KEY_GRACE_SECONDS)
        count = store.incr(key)
    except ValueError:
        return None  # the key expired between add and incr: a clock far off; let it pass
    except (RedisError, OSError) as error:
        breaker.trip(error, now)
        return None
    if count <= rate.limit:
        return None
    return max(1, math.ceil(window_end - now))


def rate_for(scope: str) -> Rate | None:
    if not settings.RATE_LIMIT_ENABLED:
        return None
    return parse_rate(settings.RATE_LIMITS.get(scope))


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with ``RATE_LIMIT_NUM_PROXIES`` = N trusted
    proxies in front, the address the outermost of them saw (N-th from the right in
    X-Forwarded-For). Without trusted proxies the header is ignored: clients can write it."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    proxies = settings.RATE_LIMIT_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in str(forwarded).split(",") if a.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


class ApiRateThrottle(BaseThrottle):
    """The API's throttle (DEFAULT_THROTTLE_CLASSES): one scope per request, see above."""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        scope = VIEW_SCOPES.get(match.view_name if match else "")
        if scope == "survey" or not (user and user.is_authenticated):
            scope, ident = scope or "anon", f"ip:{client_ip(request)}"
        else:
            scope = scope or ("read" if request.method in SAFE_METHODS else "write")
            ident = f"user:{user.pk}"
        rate = rate_for(scope)
        if rate is None:
            return True
        self.retry_after = hit(scope, ident, rate)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 of a page: a short HTML page for browsers, the error shape for the rest."""
    # Imported here: supportmetrics.exceptions imports DRF's views, which load this module.
    from supportmetrics.exceptions import error_body

    body = error_body(
        f"Too many requests. Try again in {retry_after} seconds.",
        "rate_limited",
        {"retry_after": retry_after},
    )
    response: HttpResponse
    if "text/html" in request.headers.get("Accept", ""):
        response = HttpResponse(
            render_to_string("429.html", {"retry_after": retry_after}, request=request),
            status=429,
        )
    else:
        response = JsonResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    """Per-IP limits for the pages in PAGE_SCOPES (DRF views use ApiRateThrottle)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        scope, methods = PAGE_SCOPES.get(match.view_name if match else "", ("", frozenset()))
        if request.method not in methods:
            return None
        rate = rate_for(scope)
        if rate is None:
            return None
        retry_after = hit(scope, f"ip:{client_ip(request)}", rate)
        return None if retry_after is None else too_many_requests(request, retry_after)
