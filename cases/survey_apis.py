"""The survey as JSON, for a custom survey front end: ``/api/v1/surveys/<token>/``.

No login and no session: the signed token is the credential, so there is no cookie for a
cross-site request to ride on, hence no CSRF check. GET shows only what the customer needs
(the case subject, the resolution date, the questions) and never records anything.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import SurveyInvitation
from cases.services.surveys import (
    COMMENT_MAX_LENGTH,
    CSAT_RANGE,
    EFFORT_RANGE,
    NPS_RANGE,
    survey_answer_record,
)
from cases.survey_links import survey_invitation_from_token
from supportmetrics.exceptions import ApplicationError

QUESTIONS = [
    {
        "name": "csat",
        "text": "How satisfied are you with the support you received?",
        "min": CSAT_RANGE[0],
        "max": CSAT_RANGE[1],
        "min_label": "Very dissatisfied",
        "max_label": "Very satisfied",
        "required": True,
    },
    {
        "name": "nps",
        "text": "How likely are you to recommend us to a friend or colleague?",
        "min": NPS_RANGE[0],
        "max": NPS_RANGE[1],
        "min_label": "Not at all likely",
        "max_label": "Extremely likely",
        "required": False,
    },
    {
        "name": "effort",
        "text": "How easy was it to get your issue resolved?",
        "min": EFFORT_RANGE[0],
        "max": EFFORT_RANGE[1],
        "min_label": "Very easy",
        "max_label": "Very difficult",
        "required": False,
    },
]


def _error_response(name: str, codes: list[str], description: str) -> OpenApiResponse:
    return OpenApiResponse(
        response=inline_serializer(
            name,
            fields={
                "message": serializers.CharField(),
                "code": serializers.ChoiceField(choices=codes),
                "extra": serializers.DictField(),
            },
        ),
        description=description,
    )


ERROR_RESPONSES = {
    404: _error_response(
        "SurveyLinkInvalidResponse",
        ["survey_link_invalid"],
        "survey_link_invalid: the token was tampered with or names no survey.",
    ),
    410: _error_response(
        "SurveyGoneResponse",
        ["survey_link_expired", "survey_already_answered"],
        "survey_link_expired: the link is past SURVEY_LINK_MAX_AGE_DAYS. "
        "survey_already_answered: this survey has its answer.",
    ),
}


def _answerable(token: str) -> SurveyInvitation:
    invitation = survey_invitation_from_token(token)
    if invitation.status == SurveyInvitation.Status.ANSWERED:
        raise ApplicationError(
            "This survey has already been answered.",
            code="survey_already_answered",
            status_code=410,
        )
    return invitation


class SurveyAnswerApi(APIView):
    """The survey behind a signed link (GET) and the customer's answer to it (POST)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        csat = serializers.IntegerField(min_value=CSAT_RANGE[0], max_value=CSAT_RANGE[1])
        nps = serializers.IntegerField(
            min_value=NPS_RANGE[0], max_value=NPS_RANGE[1], required=False, allow_null=True
        )
        effort = serializers.IntegerField(
            min_value=EFFORT_RANGE[0], max_value=EFFORT_RANGE[1], required=False, allow_null=True
        )
        comment = serializers.CharField(
            required=False, allow_blank=True, max_length=COMMENT_MAX_LENGTH, default=""
        )

        class Meta:
            ref_name = "SurveyAnswerInput"

    class OutputSerializer(serializers.Serializer):
        csat = serializers.IntegerField()
        nps = serializers.IntegerField(allow_null=True)
        effort = serializers.IntegerField(allow_null=True)
        comment = serializers.CharField()
        responded_at = serializers.DateTimeField()

        class Meta:
            ref_name = "SurveyAnswer"

    class SurveySerializer(serializers.Serializer):
        class QuestionSerializer(serializers.Serializer):
            name = serializers.ChoiceField(choices=["csat", "nps", "effort"])
            text = serializers.CharField()
            min = serializers.IntegerField()
            max = serializers.IntegerField()
            min_label = serializers.CharField()
            max_label = serializers.CharField()
            required = serializers.BooleanField()

            class Meta:
                ref_name = "SurveyQuestion"

        subject = serializers.CharField(help_text="The case's subject, as the customer wrote it.")
        resolved_at = serializers.DateTimeField()
        questions = QuestionSerializer(many=True)
        comment_max_length = serializers.IntegerField()

        class Meta:
            ref_name = "Survey"

    @extend_schema(
        operation_id="survey_retrieve",
        summary="The survey behind a signed link (records nothing)",
        responses={200: SurveySerializer, **ERROR_RESPONSES},
    )
    def get(self, request: Request, token: str) -> Response:
        invitation = _answerable(token)
        return Response(
            self.SurveySerializer(
                {
                    "subject": invitation.case.subject,
                    "resolved_at": invitation.resolved_at,
                    "questions": QUESTIONS,
                    "comment_max_length": COMMENT_MAX_LENGTH,
                }
            ).data
        )

    @extend_schema(
        operation_id="survey_answer",
        summary="Answer the survey behind a signed link, once",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: _error_response(
                "SurveyAnswerInvalidResponse",
                ["validation_error"],
                "An out-of-range or malformed score; extra.fields names each field. "
                "Nothing is stored.",
            ),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request: Request, token: str) -> Response:
        invitation = _answerable(token)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        response = survey_answer_record(
            invitation=invitation,
            csat=data["csat"],
            nps=data.get("nps"),
            effort=data.get("effort"),
            comment=data["comment"],
        )
        return Response(self.OutputSerializer(response).data, status=status.HTTP_201_CREATED)
