"""Serializers for the plain resources (teams, reps, accounts, categories) and cases."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import transaction
from rest_framework import serializers

from cases.batch_validation import FastValidator, preload_named
from cases.fields import AwareDateTimeField, RepresentativeUsernameField
from cases.models import (
    Account,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    Channel,
    Priority,
    Representative,
    Team,
)


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "timezone",
            "business_hours",
            "holiday_country",
            "holiday_subdivision",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class RepresentativeSerializer(serializers.ModelSerializer):
    # The User model's own limits: without them a long or odd username reached the database
    # (a 500 for > 150 characters) or created a user that cannot log in.
    username = serializers.CharField(
        source="user.username", max_length=150, validators=[UnicodeUsernameValidator()]
    )
    email = serializers.EmailField(
        source="user.email", required=False, allow_blank=True, max_length=254
    )

    class Meta:
        model = Representative
        fields = ["id", "username", "email", "display_name", "team", "role", "active", "created_at"]
        read_only_fields = ["created_at"]

    def validate_username(self, value: str) -> str:
        users = get_user_model().objects.filter(username=value)
        if self.instance is not None:
            users = users.exclude(pk=self.instance.user_id)
        if users.exists():
            raise serializers.ValidationError("A user with this username already exists.")
        return value

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Representative:
        user_data = validated_data.pop("user")
        user = get_user_model().objects.create_user(
            username=user_data["username"], email=user_data.get("email", "")
        )
        return Representative.objects.create(user=user, **validated_data)

    @transaction.atomic
    def update(self, instance: Representative, validated_data: dict[str, Any]) -> Representative:
        user_data = validated_data.pop("user", {})
        for name, value in user_data.items():
            setattr(instance.user, name, value)
        if user_data:
            instance.user.save(update_fields=list(user_data))
        return super().update(instance, validated_data)


class AccountSerializer(serializers.ModelSerializer):
    churned_at = AwareDateTimeField(required=False, allow_null=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "external_id",
            "name",
            "annual_value",
            "segment",
            "status",
            "churned_at",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        # Mirrors the account_annual_value_non_negative constraint: a 400, not an IntegrityError.
        extra_kwargs = {"annual_value": {"min_value": 0}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        status = attrs.get("status", getattr(self.instance, "status", Account.Status.ACTIVE))
        churned_at = attrs.get("churned_at", getattr(self.instance, "churned_at", None))
        if status == Account.Status.CHURNED and churned_at is None:
            raise serializers.ValidationError(
                {"churned_at": ["A churned account needs churned_at."]}
            )
        if status == Account.Status.ACTIVE and churned_at is not None:
            raise serializers.ValidationError(
                {"churned_at": ["An active account has no churned_at."]}
            )
        return attrs


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "active",
            "parent",
            "target_resolution_hours",
        ]

    def validate_parent(self, value: Category | None) -> Category | None:
        node = value
        while node is not None and self.instance is not None:
            if node.pk == self.instance.pk:
                raise serializers.ValidationError("A category cannot be its own ancestor.")
            node = node.parent
        return value


class CategorySlugField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Category.objects.all())
        super().__init__(slug_field="slug", **kwargs)


class AccountExternalIdField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Account.objects.all())
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(slug_field="external_id", **kwargs)


CASE_LIST_FIELDS = [
    "id",
    "source",
    "external_id",
    "account",
    "category",
    "channel",
    "priority",
    "status",
    "subject",
    "team",
    "assignee",
    "resolved_by",
    "first_responder",
    "opened_at",
    "assigned_at",
    "first_response_at",
    "first_resolved_at",
    "resolved_at",
    "closed_at",
    "last_customer_activity_at",
    "agent_response_count",
    "reopened_count",
    "first_response_seconds",
    "first_response_business_seconds",
    "resolution_seconds",
    "resolution_business_seconds",
    "updated_at",
]
PERSONAL_FIELDS = ["requester_email", "requester_name"]


class CaseListSerializer(serializers.ModelSerializer):
    """Case list rows: no personal data (lists get exported and cached widely)."""

    account = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    assignee = RepresentativeUsernameField(read_only=True)
    resolved_by = RepresentativeUsernameField(read_only=True)
    first_responder = RepresentativeUsernameField(read_only=True)

    class Meta:
        model = Case
        fields = CASE_LIST_FIELDS
        read_only_fields = CASE_LIST_FIELDS


class CaseDetailSerializer(CaseListSerializer):
    """One case, with the requester, for the roles that work it."""

    class Meta(CaseListSerializer.Meta):
        fields = [*CASE_LIST_FIELDS, *PERSONAL_FIELDS]
        read_only_fields = fields


class CaseCreateSerializer(serializers.Serializer):
    source = serializers.SlugField(max_length=64, default="api")
    external_id = serializers.CharField(max_length=120)
    account = AccountExternalIdField()
    requester_email = serializers.EmailField(required=False, allow_blank=True, default="")
    requester_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    category = CategorySlugField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    assignee = RepresentativeUsernameField(required=False, allow_null=True, default=None)
    opened_at = AwareDateTimeField()


class CaseUpdateSerializer(serializers.Serializer):
    account = AccountExternalIdField()
    requester_email = serializers.EmailField(required=False, allow_blank=True)
    requester_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    category = CategorySlugField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            "Not an editable field; status and assignment change through events."
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class CaseEventSerializer(serializers.ModelSerializer):
    actor = RepresentativeUsernameField(read_only=True)
    assignee = RepresentativeUsernameField(read_only=True)

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "event_type",
            "occurred_at",
            "actor",
            "assignee",
            "from_status",
            "to_status",
            "synthetic",
            "recorded_at",
        ]
        read_only_fields = fields


class CaseEventCreateSerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(
        choices=[c for c in CaseEvent.Type.choices if c[0] != CaseEvent.Type.CREATED]
    )
    occurred_at = AwareDateTimeField()
    assignee = RepresentativeUsernameField(required=False, allow_null=True, default=None)
    to_status = serializers.ChoiceField(
        choices=[CaseStatus.OPEN, CaseStatus.PENDING], required=False, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["event_type"] == CaseEvent.Type.STATUS_CHANGED and not attrs.get("to_status"):
            raise serializers.ValidationError({"to_status": ["Required for status_changed."]})
        if attrs["event_type"] != CaseEvent.Type.ASSIGNED and attrs.get("assignee"):
            raise serializers.ValidationError(
                {"assignee": ["Only assigned events name an assignee."]}
            )
        return attrs


class CaseSnapshotSerializer(serializers.Serializer):
    """One item of a bulk upsert: the case as the help desk sees it now."""

    source = serializers.SlugField(max_length=64, default="api")
    external_id = serializers.CharField(max_length=120)
    account = AccountExternalIdField()
    # 254: the column's length (EmailField alone accepts up to 320).
    requester_email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, default=""
    )
    requester_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    category = CategorySlugField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    status = serializers.ChoiceField(choices=CaseStatus.choices, default=CaseStatus.NEW)
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    assignee = RepresentativeUsernameField(required=False, allow_null=True, default=None)
    resolved_by = RepresentativeUsernameField(required=False, allow_null=True, default=None)
    opened_at = AwareDateTimeField()
    assigned_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    first_response_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    resolved_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    closed_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    agent_response_count = serializers.IntegerField(min_value=0, max_value=100_000, default=0)
    reopened_count = serializers.IntegerField(min_value=0, max_value=10_000, default=0)

    @classmethod
    def validate_items(cls, items: list[Any]) -> list[tuple[dict[str, Any] | None, Any]]:
        """Validate every item of a batch: ``(validated data, None)`` or ``(None, errors)``
        per item, in order, with the same data and errors as ``is_valid()`` on each item.

        One serializer serves the whole batch (building one costs more than validating an
        item), and the accounts, categories and representatives the items name are loaded
        in one query per kind instead of one query per item and field.
        """
        named = preload_named(items, fields=_NAMED)

        def wired(serializer: CaseSnapshotSerializer) -> CaseSnapshotSerializer:
            for field, kind in _NAMED.items():
                serializer.fields[field].queryset = named[kind]
            return serializer

        serializer = wired(cls())
        fast = FastValidator.for_serializer(serializer)
        validated: list[tuple[dict[str, Any] | None, Any]] = []
        for item in items:
            data = fast(item) if fast is not None else None
            if data is not None:
                validated.append((data, None))
                continue
            try:
                validated.append((dict(serializer.run_validation(item)), None))
            except serializers.ValidationError:
                # Worded by is_valid() itself (it rewords a few errors, e.g. a null item).
                alone = wired(cls(data=item))
                alone.is_valid()
                validated.append((None, alone.errors))
        return validated


_NAMED = {
    "account": "account",
    "category": "category",
    "assignee": "representative",
    "resolved_by": "representative",
}
