"""Requesters are matched by a keyed hash of their email, so the address is stored once (on
the case) and never copied into invitations, opt-outs, task arguments or logs."""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac


def requester_hash(email: str) -> str:
    """HMAC-SHA256 of the normalized address, keyed by REQUESTER_HASH_KEY; '' for no address."""
    normalized = email.strip().lower()
    if not normalized:
        return ""
    return salted_hmac(
        "supportmetrics.requester",
        normalized,
        secret=settings.REQUESTER_HASH_KEY,
        algorithm="sha256",
    ).hexdigest()
