"""The Scoring settings forms: points per activity type, decay, grading profiles and criteria."""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.forms import inlineformset_factory

from prospects.models import (
    DEFAULT_POINTS,
    GradingCriterion,
    GradingProfile,
    ScoringRule,
    ScoringSettings,
)
from prospects.models.scoring import POINT_VALIDATORS, RULED_TYPES

Field, Match = GradingCriterion.Field, GradingCriterion.Match
SMALL = {"class": "form-control form-control-sm"}


class PointsForm(forms.Form):
    """One number per scored activity type, starting from the points in force."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = ScoringRule.points_by_type()
        for kind in RULED_TYPES:
            self.fields[kind.value] = forms.IntegerField(
                label=kind.label,
                initial=current[kind.value],
                validators=POINT_VALIDATORS,
                help_text=f"Default {DEFAULT_POINTS.get(kind, 0):+d}",
                widget=forms.NumberInput(attrs={**SMALL, "class": SMALL["class"] + " text-end"}),
            )

    def save(self, *, actor) -> list[str]:
        """Store the points that changed; returns the types whose points changed."""
        current = ScoringRule.points_by_type()
        changed = [kind for kind, points in self.cleaned_data.items() if current[kind] != points]
        with transaction.atomic():
            for kind in changed:
                ScoringRule.objects.update_or_create(
                    activity_type=kind,
                    defaults={"points": self.cleaned_data[kind], "updated_by": actor},
                )
        return changed


class DecayForm(forms.ModelForm):
    class Meta:
        model = ScoringSettings
        fields = ["decay_enabled", "decay_percent", "decay_after_days"]
        widgets = {
            "decay_percent": forms.NumberInput(attrs=SMALL),
            "decay_after_days": forms.NumberInput(attrs=SMALL),
        }


class GradingProfileForm(forms.ModelForm):
    # Not a model field of the form: the "one default" constraint would refuse the new default
    # before ``save`` could take the flag from the old one.
    is_default = forms.BooleanField(
        label="Default profile",
        required=False,
        help_text="Grades every prospect without a profile of its own.",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = GradingProfile
        fields = ["name"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["is_default"].initial = self.instance.is_default

    @transaction.atomic
    def save(self, commit: bool = True) -> GradingProfile:
        """Making this profile the default takes the flag from the one that had it."""
        self.instance.is_default = self.cleaned_data["is_default"]
        if self.instance.is_default:
            others = GradingProfile.objects.select_for_update().filter(is_default=True)
            others.exclude(pk=self.instance.pk).update(is_default=False)
        return super().save(commit=commit)


class ValuesField(forms.CharField):
    """A criterion's values typed as one comma-separated line, stored as a list."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [part.strip() for part in text.split(",") if part.strip()][:50]


class CriterionForm(forms.ModelForm):
    values = ValuesField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={**SMALL, "placeholder": "Marketing, Sales"}),
        help_text="Comma-separated; case does not matter.",
    )

    class Meta:
        model = GradingCriterion
        fields = ["field", "match", "values", "minimum", "maximum", "weight"]
        widgets = {
            "field": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "match": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "minimum": forms.NumberInput(attrs={**SMALL, "placeholder": "min"}),
            "maximum": forms.NumberInput(attrs={**SMALL, "placeholder": "max"}),
            "weight": forms.NumberInput(attrs=SMALL),
        }

    def clean(self) -> dict:
        data = super().clean()
        field, match = data.get("field"), data.get("match")
        if field == Field.EMPLOYEES:
            low, high = data.get("minimum"), data.get("maximum")
            if match != Match.BETWEEN:
                self.add_error("match", "Company size is compared with 'is between'.")
            if low is None and high is None:
                self.add_error("minimum", "Give a minimum, a maximum or both.")
            elif low is not None and high is not None and low > high:
                self.add_error("maximum", "The maximum is below the minimum.")
            data["values"] = []
        elif field:
            if match == Match.BETWEEN:
                self.add_error("match", "'is between' is for company size only.")
            if not data.get("values"):
                self.add_error("values", "Give at least one value.")
            data["minimum"] = data["maximum"] = None
        return data


CriterionFormSet = inlineformset_factory(
    GradingProfile,
    GradingCriterion,
    form=CriterionForm,
    extra=2,
    can_delete=True,
    max_num=20,
    validate_max=True,
)
