"""Salesforce campaigns in the API: the ``salesforce_campaign`` and ``campaign_member_status``
fields the prospect writes and imports take, a prospect's memberships, and the campaigns
(with their member statuses) a client picks from."""

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.memberships import CampaignError, check_campaign
from crm.models import CampaignMembership, CampaignMemberStatus, SalesforceCampaign
from intake.writes import to_18

MAX_DB_ID = 2**63 - 1
SF_CAMPAIGN_ID = re.compile(r"^701[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$")
CAMPAIGN_FIELDS = ("salesforce_campaign", "campaign_member_status")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1},
            {"type": "string", "pattern": SF_CAMPAIGN_ID.pattern},
        ],
        "description": "A Salesforce campaign: its id here, or its Salesforce id (701…).",
    }
)
class SalesforceCampaignField(serializers.Field):
    """A Salesforce campaign by its id here (a number) or its Salesforce id (15 or 18
    characters, ``701…``); in a multipart form, the number as text is taken too."""

    default_error_messages = {
        "invalid": "Give the campaign's id (a number) or its Salesforce id (701…).",
        "not_found": "No Salesforce campaign has this id.",
    }

    def __init__(self, *, form: bool = False, **kwargs) -> None:
        self.form = form
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> SalesforceCampaign:
        if self.form and isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data) if len(data) < 20 else data
        if isinstance(data, int) and not isinstance(data, bool):
            if not 0 < data <= MAX_DB_ID:
                self.fail("not_found")
            found = SalesforceCampaign.objects.filter(pk=data).first()
        elif isinstance(data, str) and SF_CAMPAIGN_ID.match(data):
            found = SalesforceCampaign.objects.filter(sf_id=to_18(data)).first()
        else:
            self.fail("invalid")
        if found is None:
            self.fail("not_found")
        return found

    def to_representation(self, value: SalesforceCampaign) -> int:
        return value.pk


def salesforce_campaign_field(*, form: bool = False) -> SalesforceCampaignField:
    return SalesforceCampaignField(
        form=form,
        required=False,
        allow_null=True,
        write_only=True,
        help_text=(
            "Add the prospect to this Salesforce campaign (its id here, or its Salesforce id), "
            "as campaign_member_status. A prospect not yet in Salesforce joins once it syncs."
        ),
    )


def member_status_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=765,
        write_only=True,
        help_text=(
            "One of the campaign's member statuses; left out, the campaign's default (and a "
            "prospect already a member keeps its status)."
        ),
    )


def check_salesforce_campaign(attrs: dict[str, Any]) -> dict[str, Any]:
    """Refuse, naming the field, what Salesforce would: a campaign deleted there or inactive,
    a status it lacks, a status without a campaign."""
    campaign = attrs.get("salesforce_campaign")
    status = attrs.get("campaign_member_status") or ""
    if campaign is None:
        if status:
            raise serializers.ValidationError(
                {"campaign_member_status": ["Give the salesforce_campaign it is a status of."]}
            )
        return attrs
    try:
        check_campaign(campaign, "")
    except CampaignError as exc:
        raise serializers.ValidationError({"salesforce_campaign": [str(exc)]}) from exc
    try:
        check_campaign(campaign, status)
    except CampaignError as exc:
        raise serializers.ValidationError({"campaign_member_status": [str(exc)]}) from exc
    return attrs


def campaign_options(validated: dict[str, Any]) -> dict[str, Any]:
    """The write core's options for the campaign fields (nothing when no campaign is given)."""
    campaign = validated.get("salesforce_campaign")
    if campaign is None:
        return {}
    return {
        "salesforce_campaign": campaign,
        "campaign_member_status": validated.get("campaign_member_status") or "",
    }


class AddToCampaignSerializer(serializers.Serializer):
    """``POST /prospects/{id}/campaigns/``: the campaign and status to add the prospect with."""

    salesforce_campaign = SalesforceCampaignField(
        help_text="The Salesforce campaign: its id here, or its Salesforce id (701…)."
    )
    campaign_member_status = member_status_field()

    def validate(self, attrs):
        return check_salesforce_campaign(attrs)


class MembershipSerializer(serializers.ModelSerializer):
    """A prospect's membership in a Salesforce campaign. ``state``: ``pending`` until it is in
    Salesforce (a prospect not yet synced waits for its sync), ``synced``, or ``error`` with
    Salesforce's message."""

    salesforce_campaign = serializers.IntegerField(source="campaign_id", read_only=True)
    salesforce_campaign_sf_id = serializers.CharField(source="campaign.sf_id", read_only=True)
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)

    class Meta:
        model = CampaignMembership
        fields = [
            "id",
            "salesforce_campaign",
            "salesforce_campaign_sf_id",
            "campaign_name",
            "status",
            "has_responded",
            "first_responded_date",
            "state",
            "sf_member_id",
            "error_message",
            "created_at",
            "updated_at",
            "synced_at",
        ]
        read_only_fields = fields


class MemberStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignMemberStatus
        fields = ["label", "is_default", "has_responded"]


class SalesforceCampaignSerializer(serializers.ModelSerializer):
    """A campaign mirrored from Salesforce, with the member statuses it takes."""

    member_statuses = MemberStatusSerializer(many=True, read_only=True)
    is_deleted = serializers.BooleanField(read_only=True)

    class Meta:
        model = SalesforceCampaign
        fields = [
            "id",
            "sf_id",
            "name",
            "type",
            "status",
            "is_active",
            "is_deleted",
            "start_date",
            "end_date",
            "member_count",
            "status_counts",
            "member_statuses",
        ]
        read_only_fields = fields
