from django.urls import path
from rest_framework.routers import APIRootView, DefaultRouter

from cases import alert_apis, apis, audit_apis, survey_apis
from cases.outbox_apis import urlpatterns as outbox_urlpatterns
from cases.permissions import HasCaseRole

app_name = "cases"


class ApiRootView(APIRootView):
    """The links under /api/v1/: like every endpoint, for users with a role only."""

    permission_classes = [HasCaseRole]


class Router(DefaultRouter):
    APIRootView = ApiRootView


router = Router(trailing_slash=True)
router.register("teams", apis.TeamViewSet, basename="team")
router.register("reps", apis.RepresentativeViewSet, basename="rep")
router.register("accounts", apis.AccountViewSet, basename="account")
router.register("categories", apis.CategoryViewSet, basename="category")
router.register("cases", apis.CaseViewSet, basename="case")
router.register("alerts", alert_apis.DetractorAlertViewSet, basename="alert")

urlpatterns = [
    path("cases/bulk/", apis.CaseBulkUpsertApi.as_view(), name="case-bulk-upsert"),
    path("cases/import/", apis.CaseImportApi.as_view(), name="case-import"),
    path("cases/<int:case_id>/events/", apis.CaseEventApi.as_view(), name="case-events"),
    path("surveys/<str:token>/", survey_apis.SurveyAnswerApi.as_view(), name="survey-answer"),
    *alert_apis.urlpatterns,
    *audit_apis.urlpatterns,
    *outbox_urlpatterns,
    *router.urls,
]
