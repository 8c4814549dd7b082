from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="dashboard/login.html",
            redirect_authenticated_user=True,
            next_page="dashboard:home",
            extra_context={"title": "Log in"},
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path("", views.home, name="home"),
    path("overview/", views.overview, name="overview"),
    path("seasonality/", views.seasonality, name="seasonality"),
    path("accounts/", views.accounts, name="accounts"),
    path("reps/<int:rep_id>/", views.coaching, name="coaching"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/contact/", views.alert_contact, name="alert-contact"),
    path("alerts/<int:alert_id>/close/", views.alert_close, name="alert-close"),
]
