from django import forms
from django.db.models import Q

from crm.memberships import CampaignError, check_campaign
from crm.models import SalesforceCampaign
from prospects.models import Campaign

SEPARATOR = "::"


def campaign_status_choices() -> list:
    """One select for both: a group per live, active campaign, an option per member status."""
    choices = []
    campaigns = SalesforceCampaign.objects.live().filter(is_active=True)
    for campaign in campaigns.prefetch_related("member_statuses"):
        options = [
            (f"{campaign.pk}{SEPARATOR}{status.label}", status.label)
            for status in campaign.member_statuses.all()
        ]
        if options:
            choices.append((campaign.name, options))
    return choices


class AddToCampaignForm(forms.Form):
    """Pick a Salesforce campaign and the member status to add with."""

    # Free text behind a select: a status the campaign lacks gets clean()'s message, naming
    # the campaign's statuses, rather than "Select a valid choice".
    campaign_status = forms.CharField(
        label="Salesforce campaign and status", widget=forms.Select, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        widget = self.fields["campaign_status"].widget
        widget.choices = [("", "Choose…"), *campaign_status_choices()]
        self.fields["campaign_status"].widget.attrs.update(
            {"class": "form-select", "aria-label": "Salesforce campaign and status"}
        )

    def clean(self):
        data = super().clean()
        value = data.get("campaign_status") or ""
        pk, _, status = value.partition(SEPARATOR)
        campaign = SalesforceCampaign.objects.filter(pk=pk).first() if pk.isdigit() else None
        if campaign is None:
            raise forms.ValidationError("Choose a Salesforce campaign.")
        try:
            data["status"] = check_campaign(campaign, status)
        except CampaignError as exc:
            raise forms.ValidationError(str(exc)) from exc
        data["campaign"] = campaign
        return data


class ConnectForm(forms.Form):
    """Connect a Leadbridge campaign to this Salesforce campaign (one each way)."""

    leadbridge_campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.all(), required=False, empty_label="Not connected"
    )

    def __init__(self, *args, campaign: SalesforceCampaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        field = self.fields["leadbridge_campaign"]
        field.queryset = Campaign.objects.filter(
            Q(salesforce_campaign__isnull=True) | Q(salesforce_campaign=campaign)
        )
        field.widget.attrs["class"] = "form-select"
