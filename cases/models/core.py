"""Support cases and the people, accounts and categories around them.

Timestamps are aware and stored in UTC. The denormalized fields of a Case are written
only by the services in ``cases.services``, from its CaseEvents.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name.", code="invalid_timezone")


def default_business_hours() -> dict[str, list[list[str]]]:
    return {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def validate_business_hours(value: object) -> None:
    from cases.business_hours import parse_weekly_hours

    if not isinstance(value, dict):
        raise ValidationError("Opening hours are an object like {'mon': [['09:00', '17:00']]}.")
    try:
        parse_weekly_hours(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid_business_hours") from error


def validate_holiday_country(value: str) -> None:
    import holidays

    if value and value not in holidays.list_supported_countries():
        raise ValidationError(f"{value!r} is not a country the holidays package knows.")


class Team(models.Model):
    """A support team: its calendar (time zone, opening hours, holidays) sets its clocks."""

    name = models.CharField(max_length=120, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    business_hours = models.JSONField(
        default=default_business_hours, validators=[validate_business_hours]
    )
    holiday_country = models.CharField(
        max_length=8, blank=True, validators=[validate_holiday_country]
    )
    holiday_subdivision = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamClosure(models.Model):
    """A day the team is closed beyond public holidays (an offsite, a local holiday)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["team", "date"], name="team_closure_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.team} closed {self.date}"


class Representative(models.Model):
    """A support representative or manager; the Django user is how they log in."""

    class Role(models.TextChoices):
        REP = "rep", "Representative"
        MANAGER = "manager", "Manager"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="representative"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="representatives")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    display_name = models.CharField(max_length=150)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name", "id"]
        indexes = [models.Index(fields=["team", "role"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class Account(models.Model):
    class Segment(models.TextChoices):
        SMB = "smb", "Small business"
        MID_MARKET = "mid_market", "Mid-market"
        ENTERPRISE = "enterprise", "Enterprise"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CHURNED = "churned", "Churned"

    external_id = models.CharField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    annual_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    segment = models.CharField(max_length=16, choices=Segment.choices, default=Segment.SMB)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    churned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_value__gte=0), name="account_annual_value_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(status="churned", churned_at__isnull=False)
                | Q(status="active", churned_at__isnull=True),
                name="account_churned_at_iff_churned",
            ),
        ]
        indexes = [models.Index(fields=["segment"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """Configured by admins. An inactive category takes no new cases but keeps its history."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    target_resolution_hours = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(24 * 365)]
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="category_not_its_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(target_resolution_hours__isnull=True)
                | Q(target_resolution_hours__gte=1),
                name="category_target_hours_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    WEB_FORM = "web_form", "Web form"
    SOCIAL = "social", "Social"
    IN_APP = "in_app", "In-app"
    IVR = "ivr", "IVR"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING)


class Case(models.Model):
    source = models.CharField(max_length=64, default="api")
    external_id = models.CharField(max_length=120)
    # FK indexes that a (field, -opened_at) index below already covers are not built twice:
    # every index is a write per ingested case.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    # Personal data: only shown to roles that work the case (see docs/api.md).
    requester_email = models.EmailField(blank=True)
    requester_name = models.CharField(max_length=200, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW)
    subject = models.CharField(max_length=300, blank=True)
    # The team that owns the case: the assignee's team at assignment, kept when unassigned.
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", db_index=False
    )
    assignee = models.ForeignKey(
        Representative,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    # Who resolved the latest resolution: CSAT is attributed to them, even after reassignment.
    resolved_by = models.ForeignKey(
        Representative,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolved_cases",
    )
    # Who sent the first agent response: first response time is theirs.
    first_responder = models.ForeignKey(
        Representative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_customer_activity_at = models.DateTimeField(null=True, blank=True)
    agent_response_count = models.PositiveIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    # Durations fixed when the event happened, in calendar and in the team's business time
    # (cases.business_hours); a later schedule change does not rewrite them.
    first_response_seconds = models.BigIntegerField(null=True, blank=True)
    first_response_business_seconds = models.BigIntegerField(null=True, blank=True)
    resolution_seconds = models.BigIntegerField(null=True, blank=True)
    resolution_business_seconds = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [("ingest_cases", "Can ingest, import and read every case (integrations)")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="case_unique_source_external_id"
            ),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True)
                | Q(first_response_at__gte=F("opened_at")),
                name="case_first_response_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("opened_at")),
                name="case_resolved_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(first_resolved_at__isnull=True)
                | Q(first_resolved_at__gte=F("opened_at")),
                name="case_first_resolved_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="case_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["resolved", "closed"], resolved_at__isnull=False)
                | Q(status__in=["new", "open", "pending"], resolved_at__isnull=True),
                name="case_resolved_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="case_closed_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(first_response_seconds__isnull=True)
                | Q(first_response_seconds__gte=0, first_response_business_seconds__gte=0),
                name="case_first_response_durations_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(resolution_seconds__isnull=True)
                | Q(resolution_seconds__gte=0, resolution_business_seconds__gte=0),
                name="case_resolution_durations_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(agent_response_count=0, first_response_at__isnull=True)
                | Q(agent_response_count__gt=0, first_response_at__isnull=False),
                name="case_first_response_iff_responses",
            ),
        ]
        indexes = [
            models.Index(fields=["-opened_at", "-id"], name="case_opened_desc"),
            models.Index(fields=["assignee", "-opened_at"], name="case_assignee_opened"),
            models.Index(fields=["team", "-opened_at"], name="case_team_opened"),
            models.Index(fields=["account", "-opened_at"], name="case_account_opened"),
            models.Index(fields=["category", "-opened_at"], name="case_category_opened"),
            models.Index(fields=["resolved_at"], name="case_resolved_at"),
            models.Index(fields=["first_response_at"], name="case_first_response_at"),
            models.Index(
                fields=["team", "assignee", "opened_at"],
                name="case_open_now",
                condition=Q(status__in=["new", "open", "pending"]),
                # What the backlog counts and the queue ranks by, so both read only this
                # index (open cases are a few percent of the table), never the case rows.
                include=[
                    "id",
                    "status",
                    "priority",
                    "last_customer_activity_at",
                    "agent_response_count",
                    "reopened_count",
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseEvent(models.Model):
    """Append-only history of a case. The case's fields are a fold over these events."""

    class Type(models.TextChoices):
        CREATED = "created", "Created"
        ASSIGNED = "assigned", "Assigned"
        AGENT_RESPONSE = "agent_response", "Agent response"
        CUSTOMER_RESPONSE = "customer_response", "Customer response"
        STATUS_CHANGED = "status_changed", "Status changed"
        REOPENED = "reopened", "Reopened"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    # Covered by the unique (case, event_type, occurred_at) index.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    event_type = models.CharField(max_length=24, choices=Type.choices)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        Representative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # For `assigned`: the new assignee (null = unassigned). For `status_changed`: the target.
    assignee = models.ForeignKey(
        Representative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    # Derived from a case snapshot (bulk upsert or cases CSV), not reported one by one.
    synthetic = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            # The same event reported twice (a client retry, a re-imported file) is one event.
            models.UniqueConstraint(
                fields=["case", "event_type", "occurred_at"], name="case_event_unique_occurrence"
            ),
        ]
        indexes = [
            models.Index(fields=["event_type", "occurred_at"], name="case_event_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.event_type} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class SurveyResponse(models.Model):
    """A customer's answer to the post-resolution survey of one resolution of a case.

    ``representative`` is the rep who resolved the case at that resolution, kept even if
    the case is reassigned later. The survey flow itself belongs to the survey issue.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="survey_responses")
    representative = models.ForeignKey(
        Representative, on_delete=models.PROTECT, null=True, related_name="survey_responses"
    )
    resolution_number = models.PositiveIntegerField(default=1)
    csat = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    nps = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    effort = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    comment = models.TextField(blank=True)
    responded_at = models.DateTimeField()

    class Meta:
        ordering = ["-responded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "resolution_number"], name="survey_response_one_per_resolution"
            ),
            models.CheckConstraint(condition=Q(csat__gte=1, csat__lte=5), name="survey_csat_1_5"),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="survey_nps_0_10"
            ),
            models.CheckConstraint(
                condition=Q(effort__isnull=True) | Q(effort__gte=1, effort__lte=7),
                name="survey_effort_1_7",
            ),
        ]
        indexes = [
            models.Index(fields=["representative", "responded_at"], name="survey_rep_time"),
            models.Index(fields=["responded_at"], name="survey_responded_at"),
        ]

    def __str__(self) -> str:
        return f"CSAT {self.csat} for case {self.case_id}"
