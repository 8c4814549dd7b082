"""Support cases, the people and accounts around them, and the survey loop after resolution."""

from cases.models.audit import (
    CaseAssignmentAuditEvent,
    CategoryAuditEvent,
    RepresentativeAuditEvent,
    TeamAuditEvent,
)
from cases.models.core import (
    OPEN_STATUSES,
    Account,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Channel,
    Priority,
    Representative,
    SurveyResponse,
    Team,
    TeamClosure,
    default_business_hours,
    validate_business_hours,
    validate_holiday_country,
    validate_timezone,
)
from cases.models.surveys import (
    DetractorAlert,
    OutboundEmail,
    SurveyInvitation,
    SurveyOptOut,
)

__all__ = [
    "OPEN_STATUSES",
    "Account",
    "Case",
    "CaseAssignmentAuditEvent",
    "CaseEvent",
    "CaseStatus",
    "Category",
    "CategoryAuditEvent",
    "Channel",
    "DetractorAlert",
    "OutboundEmail",
    "Priority",
    "Representative",
    "RepresentativeAuditEvent",
    "SurveyInvitation",
    "SurveyOptOut",
    "SurveyResponse",
    "Team",
    "TeamAuditEvent",
    "TeamClosure",
    "default_business_hours",
    "validate_business_hours",
    "validate_holiday_country",
    "validate_timezone",
]
