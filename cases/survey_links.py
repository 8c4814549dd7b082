"""Signed survey links: ``/s/<token>/`` (the survey) and ``/s/<token>/unsubscribe/``.

The token is ``django.core.signing`` output (salted, timestamped) carrying only the
invitation id: no address, nothing guessable, nothing that works for another invitation.
A link expires SURVEY_LINK_MAX_AGE_DAYS after it was signed (when its email was rendered)
and never later than the invitation's own ``expires_at``; a reminder's fresh link does not
extend the survey. Unsubscribing works with any genuine link, however old: a customer must
always be able to stop the emails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from cases.models import SurveyInvitation
from supportmetrics.exceptions import ApplicationError

SALT = "cases.survey_links.v1"


def survey_token(invitation: SurveyInvitation) -> str:
    """A fresh signed token for the invitation (its timestamp starts the link's max age)."""
    return signing.dumps({"i": invitation.pk}, salt=SALT)


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def survey_url(token: str) -> str:
    return _absolute(reverse("surveys:survey-page", kwargs={"token": token}))


def survey_unsubscribe_url(token: str) -> str:
    return _absolute(reverse("surveys:survey-unsubscribe", kwargs={"token": token}))


def invalid_link() -> ApplicationError:
    return ApplicationError(
        "This survey link is not valid.", code="survey_link_invalid", status_code=404
    )


def expired_link() -> ApplicationError:
    return ApplicationError(
        "This survey link has expired.", code="survey_link_expired", status_code=410
    )


def survey_invitation_from_token(
    token: str, *, check_expiry: bool = True, now: datetime | None = None
) -> SurveyInvitation:
    """The invitation a token was signed for.

    Raises ApplicationError 404 ``survey_link_invalid`` for a tampered or unknown token (or
    one of a suppressed invitation, which was never sent), and, with ``check_expiry``, 410
    ``survey_link_expired`` past the link's max age or the invitation's expiry.
    """
    max_age = timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS) if check_expiry else None
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise expired_link() from error
    except signing.BadSignature as error:
        raise invalid_link() from error
    invitation_id = payload.get("i") if isinstance(payload, dict) else None
    if not isinstance(invitation_id, int):
        raise invalid_link()
    invitation = SurveyInvitation.objects.select_related("case").filter(pk=invitation_id).first()
    if invitation is None or invitation.status == SurveyInvitation.Status.SUPPRESSED:
        raise invalid_link()
    if check_expiry and invitation.expires_at <= (now or timezone.now()):
        raise expired_link()
    return invitation
