"""Scoring and grading: how interested a prospect is in us (score) and how interested we should be
in them (grade).

A score is the sum of what the prospect's activities earned (``Activity.points``) plus any manual
adjustment; each activity type earns the points of its ``ScoringRule`` (Pardot's defaults when no
rule is saved). Changing a rule re-prices past activities (Pardot's rescoring is retroactive) by
adding the difference to the score, so manual adjustments survive a rescore.

A grade is a letter from F to A+ in thirds of a letter. A prospect starts at D; each criterion of
its grading profile it matches raises the grade by the criterion's weight, each it does not
match lowers it; a criterion whose field is blank counts neither way, and a prospect no criterion
could judge stays ungraded (Pardot shows no grade until one matched or not).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from prospects.models.activity import ActivityType
from prospects.models.prospect import Grade

# Pardot's baseline scoring (Admin > Automation Settings > Scoring Rules): a form, form handler
# or landing page success +50, a page view +1, an opportunity created +50, lost -100. Types
# Pardot does not score (imports, assignment, sync events) earn nothing until a marketer says so.
DEFAULT_POINTS: dict[str, int] = {
    ActivityType.FORM: 50,
    ActivityType.FORM_HANDLER: 50,
    ActivityType.LANDING_PAGE: 50,
    ActivityType.LANDING_PAGE_VIEW: 1,
    ActivityType.OPPORTUNITY_CREATED: 50,
    ActivityType.OPPORTUNITY_LOST: -100,
}
# Score bookkeeping: their points are set when recorded (a marketer's adjustment, a decay) and
# no rule re-prices them.
UNRULED_TYPES = frozenset({ActivityType.SCORE_ADJUSTED, ActivityType.SCORE_DECAYED})
RULED_TYPES = [t for t in ActivityType if t not in UNRULED_TYPES]
POINT_VALIDATORS = [MinValueValidator(-1000), MaxValueValidator(1000)]
# The score's range (the prospect's check constraint ``score_in_range``).
SCORE_MIN, SCORE_MAX = -100000, 1000000

# Grades as levels: F = 0 ... D = 2 ... A+ = 12; each level is a third of a letter.
GRADE_LEVELS: list[str] = [
    Grade.F,
    Grade.D_MINUS,
    Grade.D,
    Grade.D_PLUS,
    Grade.C_MINUS,
    Grade.C,
    Grade.C_PLUS,
    Grade.B_MINUS,
    Grade.B,
    Grade.B_PLUS,
    Grade.A_MINUS,
    Grade.A,
    Grade.A_PLUS,
]
START_LEVEL = GRADE_LEVELS.index(Grade.D)


class ScoringRule(models.Model):
    """The points one activity type earns; a type without a row earns ``DEFAULT_POINTS``."""

    activity_type = models.CharField(
        max_length=30,
        unique=True,
        choices=[(t.value, t.label) for t in RULED_TYPES],
    )
    points = models.IntegerField(validators=POINT_VALIDATORS)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["activity_type"]

    def __str__(self) -> str:
        return f"{self.get_activity_type_display()}: {self.points:+d}"

    @classmethod
    def points_by_type(cls) -> dict[str, int]:
        """Every scored type's points now: the defaults, overridden by the saved rules."""
        points = {str(t): DEFAULT_POINTS.get(t, 0) for t in RULED_TYPES}
        points.update(cls.objects.values_list("activity_type", "points"))
        return points


class ScoringSettings(models.Model):
    """The one row of scoring options: score decay (off by default, as in Pardot)."""

    decay_enabled = models.BooleanField(
        "decay scores",
        default=False,
        help_text="Lower the score of prospects who have done nothing for a while.",
    )
    decay_percent = models.PositiveSmallIntegerField(
        "decay by (%)",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The share of a positive score taken away each time.",
    )
    decay_after_days = models.PositiveSmallIntegerField(
        "after days without activity",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="And again after each further period without activity.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "scoring settings"

    def __str__(self) -> str:
        return "Scoring settings"

    @classmethod
    def load(cls) -> ScoringSettings:
        return cls.objects.get_or_create(pk=1)[0]


class GradingProfile(models.Model):
    """An ideal-customer profile whose criteria grade prospects. Prospects without a profile of
    their own are graded by the default profile (exactly one is the default)."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(
        "default profile", default=False, help_text="Grades every prospect without a profile."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_profile"
            )
        ]

    def __str__(self) -> str:
        return self.name


class GradingCriterion(models.Model):
    """One thing the ideal customer has: a job title containing a word, an industry or country
    among some values, a company size in a range; worth ``weight`` thirds of a letter."""

    class Field(models.TextChoices):
        JOB_TITLE = "job_title", "Job title"
        DEPARTMENT = "department", "Department"
        INDUSTRY = "industry", "Industry"
        COUNTRY = "country", "Country"
        EMPLOYEES = "employees", "Company size (employees)"

    class Match(models.TextChoices):
        CONTAINS = "contains", "contains any of"
        IS = "is", "is any of"
        BETWEEN = "between", "is between"

    TEXT_FIELDS = (Field.JOB_TITLE, Field.DEPARTMENT, Field.INDUSTRY, Field.COUNTRY)

    profile = models.ForeignKey(GradingProfile, on_delete=models.CASCADE, related_name="criteria")
    field = models.CharField(max_length=20, choices=Field.choices)
    match = models.CharField(max_length=10, choices=Match.choices, default=Match.IS)
    # Text criteria: the values, compared without regard to case.
    values = models.JSONField(default=list, blank=True)
    # Company size: an inclusive range, either end open.
    minimum = models.PositiveIntegerField(null=True, blank=True)
    maximum = models.PositiveIntegerField(null=True, blank=True)
    weight = models.PositiveSmallIntegerField(
        "weight (thirds of a letter)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text="A match raises the grade by this many thirds of a letter; a miss lowers it.",
    )

    class Meta:
        ordering = ["profile", "pk"]
        verbose_name_plural = "grading criteria"

    def __str__(self) -> str:
        if self.field == self.Field.EMPLOYEES:
            low = "" if self.minimum is None else self.minimum
            high = "" if self.maximum is None else self.maximum
            what = f"{low}–{high}"
        else:
            what = ", ".join(self.values)
        return f"{self.get_field_display()} {self.get_match_display()} {what}"
