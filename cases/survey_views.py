"""The customer's survey pages: no login, reached from the signed link in the email.

GET only ever shows a page (mail scanners and link previews follow links); the answer is
recorded by the form's POST, which is CSRF-protected with the token the page itself sets.
The unsubscribe POST is CSRF-exempt because mail clients send it themselves (RFC 8058
one-click); all it can do is opt out the requester the signed token names.
Errors are friendly pages with the status the JSON API gives (404, 410, 400).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from cases.models import SurveyInvitation
from cases.services.surveys import (
    COMMENT_MAX_LENGTH,
    CSAT_RANGE,
    EFFORT_RANGE,
    NPS_RANGE,
    survey_answer_record,
    survey_opt_out_requester,
)
from cases.survey_links import survey_invitation_from_token
from supportmetrics.exceptions import ApplicationError

TEMPLATES = "cases/survey/"

# What each question looks like on the page; the ranges are the service's.
QUESTIONS: list[dict[str, Any]] = [
    {
        "name": "csat",
        "legend": "How satisfied are you with the support you received?",
        "range": CSAT_RANGE,
        "low": "Very dissatisfied",
        "high": "Very satisfied",
        "required": True,
    },
    {
        "name": "nps",
        "legend": "How likely are you to recommend us to a friend or colleague?",
        "range": NPS_RANGE,
        "low": "Not at all likely",
        "high": "Extremely likely",
        "required": False,
    },
    {
        "name": "effort",
        "legend": "How easy was it to get your issue resolved?",
        "range": EFFORT_RANGE,
        "low": "Very easy",
        "high": "Very difficult",
        "required": False,
    },
]

ERROR_PAGES = {
    "survey_link_invalid": (
        "This link does not work",
        "The survey link is incomplete or was changed. Please open it again from the email "
        "we sent you, exactly as it arrived.",
    ),
    "survey_link_expired": (
        "This survey has closed",
        "The link in your email has expired, so we can no longer take answers for this "
        "case. Thank you for your time.",
    ),
    "survey_already_answered": (
        "You have already answered",
        "We have your answer to this survey. Thank you for taking the time!",
    ),
}


def _scale_field(low: int, high: int, *, required: bool) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        choices=[(value, str(value)) for value in range(low, high + 1)],
        coerce=int,
        required=required,
        empty_value=None,
        error_messages={
            "required": f"Please choose a rating from {low} to {high}.",
            "invalid_choice": f"Ensure this value is between {low} and {high}.",
        },
    )


class SurveyAnswerForm(forms.Form):
    csat = _scale_field(*CSAT_RANGE, required=True)
    nps = _scale_field(*NPS_RANGE, required=False)
    effort = _scale_field(*EFFORT_RANGE, required=False)
    comment = forms.CharField(required=False, max_length=COMMENT_MAX_LENGTH, strip=True)


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _noindex(response: HttpResponse) -> HttpResponse:
    # The pages are personal (a case subject) and their URLs are secrets: keep them out of
    # search engines and caches.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _error_page(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    title, text = ERROR_PAGES.get(error.code, ("Something went wrong", error.message))
    context = {"title": title, "text": text, "code": error.code}
    return _noindex(render(request, TEMPLATES + "error.html", context, status=error.status_code))


def _form_page(
    request: HttpRequest,
    invitation: SurveyInvitation,
    *,
    selected: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    comment: str = "",
    status: int = 200,
) -> HttpResponse:
    questions = [
        {
            **question,
            "choices": list(range(question["range"][0], question["range"][1] + 1)),
            "selected": selected.get(question["name"]),
            "errors": (errors or {}).get(question["name"], []),
        }
        for question in QUESTIONS
    ]
    context = {
        "case": invitation.case,
        "resolved_at": invitation.resolved_at,
        "questions": questions,
        "comment": comment,
        "comment_errors": (errors or {}).get("comment", []),
        "comment_max_length": COMMENT_MAX_LENGTH,
        "has_errors": bool(errors),
    }
    return _noindex(render(request, TEMPLATES + "form.html", context, status=status))


def _preselected(request: HttpRequest) -> dict[str, Any]:
    """A rating chosen in the email (``?csat=4``) is ticked on the form, not recorded."""
    form = SurveyAnswerForm(data={"csat": request.GET.get("csat", "")})
    return {"csat": form.cleaned_data["csat"]} if form.is_valid() else {}


@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the survey form. POST: record the answer and thank the customer."""
    try:
        invitation = survey_invitation_from_token(token)
        if invitation.status == SurveyInvitation.Status.ANSWERED:
            raise ApplicationError(
                "This survey has already been answered.",
                code="survey_already_answered",
                status_code=410,
            )
    except ApplicationError as error:
        return _error_page(request, error)

    if request.method != "POST":
        return _form_page(request, invitation, selected=_preselected(request))

    form = SurveyAnswerForm(request.POST)
    if not form.is_valid():
        return _form_page(
            request,
            invitation,
            selected={name: _as_int(request.POST.get(name)) for name in ("csat", "nps", "effort")},
            errors={name: list(messages) for name, messages in form.errors.items()},
            comment=request.POST.get("comment", ""),
            status=400,
        )
    try:
        survey_answer_record(invitation=invitation, **form.cleaned_data)
    except ApplicationError as error:
        if error.code != "validation_error":
            return _error_page(request, error)
        return _form_page(
            request,
            invitation,
            selected=form.cleaned_data,
            errors=error.extra.get("fields", {}),
            comment=form.cleaned_data["comment"],
            status=400,
        )
    return _noindex(render(request, TEMPLATES + "thanks.html", {"case": invitation.case}))


@never_cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def survey_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: ask to confirm. POST (the page's button, or a mail client's one-click
    ``List-Unsubscribe=One-Click``): opt the requester out of future surveys."""
    try:
        invitation = survey_invitation_from_token(token, check_expiry=False)
        if request.method == "POST":
            survey_opt_out_requester(invitation=invitation)
    except ApplicationError as error:
        return _error_page(request, error)
    template = "unsubscribed.html" if request.method == "POST" else "unsubscribe.html"
    return _noindex(render(request, TEMPLATES + template, {}))
