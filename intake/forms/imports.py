"""The Imports page's forms: the upload, then one select per column plus the run's options."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.forms.campaigns import SEPARATOR, campaign_status_choices
from intake import mapping as mappings
from intake.imports import MAX_UPLOAD_BYTES, ImportOptions, next_evening, too_large_message
from prospects.models import Campaign, CrmQueue

IGNORE = ""


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel file",
        help_text=(
            "A .csv (comma, semicolon, tab or pipe separated; UTF-8, UTF-16 or Windows-1252) or "
            f"an .xlsx workbook (its first sheet), up to {MAX_UPLOAD_BYTES // 2**20} MB, with a "
            "header row."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.txt,.tsv,.xlsx,text/csv", "class": "form-control"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(too_large_message(upload.size))
        return upload


class MappingForm(forms.Form):
    """A select per column of the file, and the import's options.

    The column fields are ``column_<index>``; ``mapping()`` gives them back as the
    ``{index: field}`` the import stores, ``options()`` as ``ImportOptions``.
    """

    WHEN = [
        ("now", "Now"),
        ("evening", "After hours (tonight at 20:00)"),
        ("at", "At a time I choose"),
    ]

    overwrite = forms.TypedChoiceField(
        label="Existing prospects",
        choices=[
            ("1", "Overwrite their values with the file's"),
            ("0", "Only fill in their blank fields"),
        ],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    create = forms.BooleanField(
        label="Create a prospect for each row that matches none", required=False, initial=True
    )
    assign_user = forms.ModelChoiceField(
        label="Assign new prospects to a user",
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="— nobody —",
    )
    assign_queue = forms.ModelChoiceField(
        label="…or to a Salesforce queue",
        queryset=CrmQueue.objects.filter(is_active=True),
        required=False,
        empty_label="— no queue —",
    )
    campaign = forms.ModelChoiceField(
        label="Campaign for new prospects",
        queryset=Campaign.objects.all(),
        required=False,
        empty_label="— none —",
    )
    # "<campaign id>::<status>", one select for both (as the prospect list's bulk add).
    salesforce_campaign = forms.CharField(
        label="Add every imported prospect to a Salesforce campaign",
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    validate_values = forms.BooleanField(
        label="Refuse values that are not among a dropdown field's predefined values",
        required=False,
        initial=True,
    )
    when = forms.ChoiceField(label="Run", choices=WHEN, initial="now", widget=forms.RadioSelect)
    run_at = forms.DateTimeField(
        label="Date and time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    template_name = forms.CharField(
        label="Save this mapping as a template named",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Trade show leads"}),
    )
    template_shared = forms.BooleanField(label="Share it with every marketer", required=False)

    def __init__(self, *args, headers: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.fields["salesforce_campaign"].widget.choices = [
            ("", "— none —"),
            *campaign_status_choices(),
        ]
        self.choices = mappings.field_choices()
        self.choice_labels = dict(self.choices)
        select = [(IGNORE, "— Ignore this column —"), *self.choices]
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=select,
                required=False,
                initial=initial_mapping.get(str(index), IGNORE),
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def mapping(self) -> dict[str, str]:
        return {
            str(index): self.cleaned_data[f"column_{index}"]
            for index in range(len(self.headers))
            if self.cleaned_data.get(f"column_{index}")
        }

    def options(self) -> ImportOptions:
        data = self.cleaned_data
        return ImportOptions(
            overwrite=data["overwrite"],
            create=data["create"],
            assign_user_id=data["assign_user"].pk if data.get("assign_user") else None,
            assign_queue_id=data["assign_queue"].pk if data.get("assign_queue") else None,
            campaign_id=data["campaign"].pk if data.get("campaign") else None,
            validate_values=data["validate_values"],
            **self._salesforce_campaign(),
        )

    def _salesforce_campaign(self) -> dict:
        pk, _, status = (self.cleaned_data.get("salesforce_campaign") or "").partition(SEPARATOR)
        if not pk.isdigit():
            return {}
        return {"salesforce_campaign_id": int(pk), "campaign_member_status": status}

    def scheduled_time(self) -> dt.datetime | None:
        when = self.cleaned_data["when"]
        if when == "evening":
            return next_evening()
        if when == "at":
            return self.cleaned_data["run_at"]
        return None

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        for problem in mappings.mapping_problems(self.headers, self.mapping(), self.choice_labels):
            self.add_error(None, problem)
        if data.get("assign_user") and data.get("assign_queue"):
            self.add_error(
                "assign_queue", "Assign new prospects to a user or to a queue, not both."
            )
        if data.get("when") == "at":
            run_at = data.get("run_at")
            if run_at is None:
                self.add_error("run_at", "Choose the date and time to run the import.")
            elif run_at <= timezone.now():
                self.add_error("run_at", "This time has passed; choose a later one, or run now.")
        return data
