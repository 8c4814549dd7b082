"""factory_boy factories for the case domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model

from cases.models import (
    Account,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Channel,
    DetractorAlert,
    Representative,
    SurveyResponse,
    Team,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    timezone = "Europe/Berlin"


class RepresentativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Representative

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    display_name = factory.LazyAttribute(lambda r: r.user.username.title())
    role = Representative.Role.REP


class ManagerFactory(RepresentativeFactory):
    role = Representative.Role.MANAGER


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"ACC-{n:05d}")
    name = factory.Sequence(lambda n: f"Account {n}")
    annual_value = 12000


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    target_resolution_hours = 24


class CaseFactory(factory.django.DjangoModelFactory):
    """A case as stored; lifecycle fields are set directly (use services to exercise the fold)."""

    class Meta:
        model = Case

    external_id = factory.Sequence(lambda n: f"CASE-{n:06d}")
    account = factory.SubFactory(AccountFactory)
    category = factory.SubFactory(CategoryFactory)
    channel = Channel.EMAIL
    status = CaseStatus.NEW
    opened_at = T0
    assignee = None
    team = factory.LazyAttribute(lambda c: c.assignee.team if c.assignee else None)
    requester_email = factory.Sequence(lambda n: f"customer{n}@example.org")
    requester_name = factory.Sequence(lambda n: f"Customer {n}")

    class Params:
        resolved = factory.Trait(
            status=CaseStatus.RESOLVED,
            agent_response_count=1,
            first_response_at=factory.LazyAttribute(lambda c: c.opened_at + timedelta(hours=1)),
            resolved_at=factory.LazyAttribute(lambda c: c.opened_at + timedelta(hours=4)),
            first_resolved_at=factory.LazyAttribute(lambda c: c.resolved_at),
            resolved_by=factory.LazyAttribute(lambda c: c.assignee),
        )


class CaseEventFactory(factory.django.DjangoModelFactory):
    """A stored event row only; it does not fold into the case (use services for that)."""

    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    event_type = CaseEvent.Type.CUSTOMER_RESPONSE
    occurred_at = factory.LazyAttribute(lambda e: e.case.opened_at + timedelta(hours=1))


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    case = factory.SubFactory(CaseFactory, resolved=True)
    representative = None
    csat = 5
    responded_at = factory.LazyAttribute(lambda s: s.case.opened_at + timedelta(days=1))


class DetractorAlertFactory(factory.django.DjangoModelFactory):
    """A stored alert row on a CSAT 1 answer, no emails (cases.services.alerts raises real
    alerts and queues their emails). Pass ``response`` to raise it on a given answer."""

    class Meta:
        model = DetractorAlert

    response = factory.SubFactory(SurveyResponseFactory, csat=1)
    case = factory.LazyAttribute(lambda a: a.response.case)
    team = factory.LazyAttribute(lambda a: a.case.team)
    representative = factory.LazyAttribute(lambda a: a.response.representative)
    status = DetractorAlert.Status.OPEN
    created_at = factory.LazyAttribute(lambda a: a.response.responded_at)
