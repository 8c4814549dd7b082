"""Rate limits (supportmetrics/ratelimit.py): 429 in the error shape, counted in Redis so that
every worker shares a count, per user and per IP, and served uncounted when Redis is down.

These tests use the machine's Redis (REDIS_URL, else 127.0.0.1:6379/15, as the Celery
integration tests do), each under a key prefix of its own.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from supportmetrics import ratelimit

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
# A fixed instant 48 s into a one-minute window: the window ends in 12 s.
NOW = 1_800_000_000 - 1_800_000_000 % 60 + 48.0
LIMITED = {
    "read": "3/min",
    "write": "2/min",
    "bulk": "1/min",
    "anon": "2/min",
    "survey": "2/min",
    "login": "2/min",
}
RATE_LIMITED_BODY = {
    "message": "Request was throttled. Expected available in 12 seconds.",
    "code": "rate_limited",
    "extra": {"retry_after": 12},
}


def redis_cache(prefix: str, location: str = REDIS_URL) -> RedisCache:
    """A cache client of its own (its own connection pool), as a second worker has."""
    return RedisCache(
        location,
        {"KEY_PREFIX": prefix, "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def prefix() -> str:
    return f"limits-test-{uuid.uuid4().hex}"


@pytest.fixture
def limited(settings, monkeypatch, prefix):
    """Small rates, the clock at NOW, a fresh Redis prefix and a closed breaker."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.RATE_LIMITS = dict(LIMITED)
    settings.RATE_LIMIT_ENABLED = True
    monkeypatch.setattr(ratelimit, "_now", lambda: NOW)
    monkeypatch.setattr(ratelimit, "breaker", ratelimit._Breaker())
    try:
        redis_cache(prefix).get("ping")
    except Exception as error:  # CI starts Redis: its absence is a failure, not a skip
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
    return settings


def test_reads_over_the_rate_answer_429_with_retry_after(limited, org, client_for):
    client = client_for(org.admin)
    for _ in range(3):
        assert client.get("/api/v1/teams/").status_code == 200
    response = client.get("/api/v1/teams/")
    assert response.status_code == 429
    assert response.json() == RATE_LIMITED_BODY
    assert response["Retry-After"] == "12"


def test_the_next_window_starts_a_new_count(limited, org, client_for, monkeypatch):
    client = client_for(org.admin)
    statuses = [client.get("/api/v1/teams/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    monkeypatch.setattr(ratelimit, "_now", lambda: NOW + 12)  # the first second of the next
    assert client.get("/api/v1/teams/").status_code == 200


def test_reads_writes_and_bulk_have_separate_buckets(limited, org, client_for):
    admin = client_for(org.admin)
    assert [admin.post("/api/v1/teams/", {"name": f"T{i}"}).status_code for i in range(3)] == [
        201,
        201,
        429,
    ]
    # Reads are still allowed: their own bucket (3 a minute).
    assert admin.get("/api/v1/teams/").status_code == 200
    # Bulk is stricter still (1 a minute) and counted apart from other writes: the admin's
    # write bucket is full, the bulk one is not.
    assert admin.post("/api/v1/cases/bulk/", [], format="json").status_code == 200
    bulk = admin.post("/api/v1/cases/bulk/", [], format="json")
    assert bulk.status_code == 429
    assert bulk.json() == RATE_LIMITED_BODY
    # The CSV import is in the same bulk bucket.
    assert admin.post("/api/v1/cases/import/", {}).status_code == 429
    # Another user's bulk bucket is their own.
    integration = client_for(org.integration)
    assert integration.post("/api/v1/cases/bulk/", [], format="json").status_code == 200


def test_users_do_not_share_a_bucket(limited, org, client_for):
    first, second = client_for(org.manager_a), client_for(org.manager_b)
    assert [first.get("/api/v1/teams/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [second.get("/api/v1/teams/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_count_is_shared_by_workers_with_their_own_connections(limited, org, prefix):
    """Two API processes are two cache clients on one Redis: each sees the other's requests."""
    worker_a, worker_b = redis_cache(prefix), redis_cache(prefix)
    rate = ratelimit.Rate(limit=3, period=60)
    answers = [
        ratelimit.hit("read", "user:1", rate, cache=cache)
        for cache in (worker_a, worker_b, worker_a, worker_b, worker_a)
    ]
    assert answers == [None, None, None, 12, 12]
    # Another user, counted by either worker, starts from zero.
    assert ratelimit.hit("read", "user:2", rate, cache=worker_b) is None


def test_concurrent_workers_lose_no_count(limited, prefix):
    """Four workers (own connections, own threads) hit one key 50 times each at once:
    exactly ``limit`` requests pass. A read-modify-write counter would let more through."""
    rate = ratelimit.Rate(limit=120, period=60)
    allowed: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        cache = redis_cache(prefix)
        start.wait()
        passed = sum(ratelimit.hit("read", "user:7", rate, cache=cache) is None for _ in range(50))
        with lock:
            allowed.append(passed)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 120
    assert redis_cache(prefix).get("rl:read:user:7:" + str(int(NOW // 60))) == 200


def test_anonymous_survey_api_is_limited_per_client_ip(limited):
    one, other = APIClient(REMOTE_ADDR="203.0.113.5"), APIClient(REMOTE_ADDR="203.0.113.6")
    assert [one.get("/api/v1/surveys/bogus/").status_code for _ in range(3)] == [404, 404, 429]
    response = one.post("/api/v1/surveys/bogus/", {"csat": 5}, format="json")
    assert response.status_code == 429
    assert response.json() == RATE_LIMITED_BODY
    assert response["Retry-After"] == "12"
    assert other.get("/api/v1/surveys/bogus/").status_code == 404


def test_forwarded_for_counts_only_behind_trusted_proxies(limited, settings):
    spoofer = APIClient(REMOTE_ADDR="203.0.113.5")
    statuses = [
        spoofer.get("/api/v1/surveys/bogus/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(3)
    ]
    assert statuses == [404, 404, 429]  # without a trusted proxy the header changes nothing
    settings.RATE_LIMIT_NUM_PROXIES = 1
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    forwarded = [
        proxy.get("/api/v1/surveys/bogus/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(3)
    ]
    assert forwarded == [404, 404, 404]  # three clients behind one proxy


def test_the_survey_page_answers_a_429_page(limited):
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    assert [client.get("/s/bogus/").status_code for _ in range(2)] == [404, 404]
    page = client.get("/s/bogus/", HTTP_ACCEPT="text/html")
    assert page.status_code == 429
    assert page["Retry-After"] == "12"
    assert "Please try again in 12 seconds." in page.content.decode()
    api_style = client.post("/s/bogus/", {"csat": "5"})
    assert api_style.status_code == 429
    assert api_style.json() == {
        "message": "Too many requests. Try again in 12 seconds.",
        "code": "rate_limited",
        "extra": {"retry_after": 12},
    }


def test_login_posts_are_limited_per_ip_and_the_form_still_shows(limited, org):
    client = APIClient(REMOTE_ADDR="203.0.113.20")
    attempts = [
        client.post("/dashboard/login/", {"username": "admin", "password": "wrong"}).status_code
        for _ in range(3)
    ]
    assert attempts == [200, 200, 429]  # a failed login re-shows the form (200)
    assert client.get("/dashboard/login/").status_code == 200  # reading the form is free
    admin_login = client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    assert admin_login.status_code == 429  # the admin's login shares the login bucket


def test_a_scope_set_off_is_not_limited(limited, org, client_for):
    limited.RATE_LIMITS = {**LIMITED, "read": "off"}
    client = client_for(org.admin)
    assert {client.get("/api/v1/teams/").status_code for _ in range(5)} == {200}


def test_redis_down_fails_open_and_warns_once(limited, org, client_for, caplog):
    limited.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/4",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    client = client_for(org.admin)
    with caplog.at_level(logging.WARNING, logger="supportmetrics.ratelimit"):
        statuses = [client.get("/api/v1/teams/").status_code for _ in range(5)]
    assert statuses == [200] * 5  # over the 3/min rate: nothing counts while Redis is down
    warnings = [r for r in caplog.records if r.name == "supportmetrics.ratelimit"]
    assert len(warnings) == 1
    assert (
        warnings[0]
        .getMessage()
        .startswith("Rate limiting is off: the cache does not answer (ConnectionError")
    )


def test_after_an_outage_redis_is_tried_again(limited, org, prefix, monkeypatch):
    rate = ratelimit.Rate(limit=1, period=60)
    dead = redis_cache(prefix, f"redis://127.0.0.1:{free_port()}/4")
    live = redis_cache(prefix)
    assert ratelimit.hit("read", "user:3", rate, cache=dead) is None  # trips the breaker
    # While the breaker is open the live cache is not asked either: nothing is counted.
    assert ratelimit.hit("read", "user:3", rate, cache=live) is None
    assert live.get(f"rl:read:user:3:{int(NOW // 60)}") is None
    monkeypatch.setattr(ratelimit, "_now", lambda: NOW + limited.RATE_LIMIT_RETRY_SECONDS)
    assert ratelimit.hit("read", "user:3", rate, cache=live) is None
    assert ratelimit.hit("read", "user:3", rate, cache=live) == 12 - 5


@pytest.mark.parametrize(
    "text, rate",
    [
        ("30/min", ratelimit.Rate(30, 60)),
        ("5/s", ratelimit.Rate(5, 1)),
        ("100/hour", ratelimit.Rate(100, 3600)),
        ("1000/day", ratelimit.Rate(1000, 86400)),
        ("off", None),
        ("", None),
        ("0", None),
    ],
)
def test_rates_are_written_as_drf_writes_them(text, rate):
    assert ratelimit.parse_rate(text) == rate


@pytest.mark.parametrize("text", ["30", "x/min", "30/fortnight", "-1/min"])
def test_a_malformed_rate_is_refused(text):
    with pytest.raises(ValueError, match="Invalid rate"):
        ratelimit.parse_rate(text)


def test_the_schema_documents_429_on_every_operation(api_schema):
    missing = [
        f"{method.upper()} {path}"
        for path, item in api_schema["paths"].items()
        for method, operation in item.items()
        if "429" not in operation["responses"]
    ]
    assert missing == []
    too_many = api_schema["paths"]["/api/v1/teams/"]["get"]["responses"]["429"]
    assert "rate_limited" in too_many["description"]


@pytest.fixture
def api_schema(org, client_for):
    response = client_for(org.admin).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


# --- request body size (supportmetrics/middleware.py) -----------------------------------


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "limits-boundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="cases"; filename="cases.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n" + "x" * size + f"\r\n--{boundary}--\r\n"
    ).encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_upload_over_the_upload_limit_answers_413(org, client_for, settings):
    settings.SUPPORTMETRICS_MAX_JSON_BODY_BYTES = 1_000
    settings.SUPPORTMETRICS_MAX_UPLOAD_BYTES = 5_000
    client = client_for(org.integration)
    body, content_type = _multipart(6_000)
    response = client.generic("POST", "/api/v1/cases/import/", body, content_type)
    assert response.status_code == 413
    assert response.json() == {
        "message": f"Request body is {len(body)} bytes; the limit is 5000 bytes.",
        "code": "request_too_large",
        "extra": {"limit_bytes": 5_000},
    }
    # Above the JSON limit but within the upload limit: the import reads the file (and finds
    # no header in it).
    body, content_type = _multipart(2_000)
    response = client.generic("POST", "/api/v1/cases/import/", body, content_type)
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "cases: Line 1 must be the header of the cases CSV file: unknown column(s) 'xxx"
    )


def test_a_multipart_body_elsewhere_gets_the_json_limit(org, client_for, settings):
    settings.SUPPORTMETRICS_MAX_JSON_BODY_BYTES = 1_000
    settings.SUPPORTMETRICS_MAX_UPLOAD_BYTES = 5_000
    body, content_type = _multipart(2_000)
    for path in ("/api/v1/cases/", "/api/v1/cases/bulk/", "/s/bogus/", "/dashboard/login/"):
        response = client_for(org.admin).generic("POST", path, body, content_type)
        assert response.status_code == 413, path
        assert response.json()["extra"] == {"limit_bytes": 1_000}
