"""Django admin: where categories are configured; cases are read-mostly."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cases import services
from cases.models import (
    Account,
    Case,
    CaseEvent,
    Category,
    DetractorAlert,
    OutboundEmail,
    Representative,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
    Team,
    TeamClosure,
)
from cases.services.outbox import outbound_email_retry
from cases.services.surveys import survey_opt_out_account


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "active", "target_resolution_hours"]
    list_filter = ["active", "parent"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["activate", "deactivate"]

    @admin.action(description="Activate selected categories")
    def activate(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        changed = services.category_set_active(categories=queryset, active=True)
        self.message_user(request, f"{changed} categories activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected categories (they keep their history)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        changed = services.category_set_active(categories=queryset, active=False)
        self.message_user(request, f"{changed} categories deactivated.", messages.SUCCESS)


class RepresentativeInline(admin.TabularInline):
    model = Representative
    fields = ["display_name", "user", "role", "active"]
    raw_id_fields = ["user"]
    extra = 0


class TeamClosureInline(admin.TabularInline):
    model = TeamClosure
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "holiday_country"]
    search_fields = ["name"]
    inlines = [RepresentativeInline, TeamClosureInline]


@admin.register(Representative)
class RepresentativeAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "team", "role", "active"]
    list_filter = ["team", "role", "active"]
    search_fields = ["display_name", "user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "segment", "annual_value", "status", "churned_at"]
    list_filter = ["segment", "status"]
    search_fields = ["name", "external_id"]
    actions = ["opt_out_of_surveys"]

    @admin.action(description="Opt out of surveys (no survey to anyone at these accounts)")
    def opt_out_of_surveys(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        for account in queryset:
            survey_opt_out_account(account=account)
        self.message_user(
            request, f"{queryset.count()} accounts opted out of surveys.", messages.SUCCESS
        )


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = [
        "occurred_at",
        "event_type",
        "actor",
        "assignee",
        "from_status",
        "to_status",
        "synthetic",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["occurred_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-mostly: the lifecycle fields are a fold over events and change only through them."""

    list_display = [
        "external_id",
        "source",
        "subject",
        "status",
        "category",
        "assignee",
        "opened_at",
    ]
    list_filter = ["status", "channel", "priority", "category", "team"]
    search_fields = ["external_id", "subject", "account__name"]
    date_hierarchy = "opened_at"
    list_select_related = ["category", "assignee"]
    show_full_result_count = False
    raw_id_fields = ["account", "assignee", "resolved_by", "team"]
    readonly_fields = [
        "source",
        "external_id",
        "status",
        "team",
        "assignee",
        "resolved_by",
        "opened_at",
        "assigned_at",
        "first_response_at",
        "first_resolved_at",
        "resolved_at",
        "closed_at",
        "last_customer_activity_at",
        "agent_response_count",
        "reopened_count",
        "created_at",
        "updated_at",
    ]
    inlines = [CaseEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["case", "representative", "csat", "nps", "effort", "responded_at"]
    list_filter = ["csat"]
    raw_id_fields = ["case", "representative"]


@admin.register(DetractorAlert)
class DetractorAlertAdmin(admin.ModelAdmin):
    """Read-only: the workflow (contacted, outcome) goes through the alerts API, which records
    who and when and refuses invalid transitions."""

    list_display = [
        "id",
        "case",
        "status",
        "team",
        "representative",
        "created_at",
        "contacted_at",
        "contacted_by",
        "closed_at",
    ]
    list_filter = ["status", "team", "created_at", "contacted_at"]
    search_fields = ["case__external_id", "representative__display_name"]
    date_hierarchy = "created_at"
    list_select_related = ["case", "team", "representative", "contacted_by"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in DetractorAlert._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox, read-only: what is waiting, what was sent, what failed and why.

    No address is shown because none is stored; "retry now" goes through the outbox service.
    """

    list_display = [
        "id",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["dedupe_key"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["retry_now"]

    @admin.display(description="last error")
    def short_error(self, email: OutboundEmail) -> str:
        return email.last_error[:80]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in OutboundEmail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Retry now (failed emails get a fresh set of attempts)")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        failed = list(queryset.filter(status=OutboundEmail.Status.FAILED))
        skipped = queryset.count() - len(failed)
        for email in failed:
            outbound_email_retry(email=email)
        retried = len(failed)
        self.message_user(request, f"{retried} emails queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} emails skipped: only failed ones are retried.", messages.INFO
            )


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are created by resolutions and moved on by delivery and answers.
    Suppressed ones say why; delivery failures are in the outbox (OutboundEmail)."""

    list_display = [
        "id",
        "case",
        "resolution_number",
        "status",
        "suppression",
        "representative",
        "resolved_at",
        "sent_at",
        "reminded_at",
        "answered_at",
        "expires_at",
    ]
    list_filter = ["status", "suppression", "resolved_at"]
    search_fields = ["case__external_id", "representative__display_name"]
    date_hierarchy = "resolved_at"
    list_select_related = ["case", "representative"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SurveyOptOut)
class SurveyOptOutAdmin(admin.ModelAdmin):
    """Who gets no surveys. Requesters opt out by their unsubscribe link (stored as a keyed
    hash, never an address) and only they can: their rows cannot be deleted here. Account
    opt-outs come from the Account action and may be deleted to survey the account again."""

    list_display = ["id", "opted_out", "account", "created_at"]
    list_filter = [("account", admin.EmptyFieldListFilter)]
    search_fields = ["account__name", "account__external_id"]
    list_select_related = ["account"]

    @admin.display(description="who")
    def opted_out(self, opt_out: SurveyOptOut) -> str:
        return "account" if opt_out.account_id else "requester (unsubscribe link)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        if isinstance(obj, SurveyOptOut):
            return obj.account_id is not None
        return super().has_delete_permission(request, obj)
