"""The customer's survey pages, mounted at ``/s/`` (short: the link goes into an email)."""

from django.urls import path

from cases import survey_views

app_name = "surveys"

urlpatterns = [
    path("<str:token>/", survey_views.survey_page, name="survey-page"),
    path("<str:token>/unsubscribe/", survey_views.survey_unsubscribe, name="survey-unsubscribe"),
]
