"""Lists and automation rules: thin views over ``automation.lists`` and ``automation.rules``."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from automation import criteria as criteria_module
from automation import jobs
from automation.editor import editor_context
from automation.filters import MemberFilter, ProspectListFilter, RuleFilter
from automation.forms import AddToListForm, ProspectListForm, RuleForm, as_json
from automation.from_filter import criteria_from_filter
from automation.lists import ListError, add_members, remove_members
from automation.models import ProspectList, Rule
from automation.rules import activate, pause, preview
from automation.tables import MemberTable, ProspectListTable, RuleRunTable, RuleTable
from core.roles import MarketerRequiredMixin, marketer_required
from prospects.models import Prospect

MEMBERS_PER_PAGE = 50


class KnownCountPaginator(Paginator):
    """A paginator told its count (the list's ``member_count``): no COUNT over a million rows."""

    def __init__(self, *args, known_count: int | None = None, **kwargs):
        self.known_count = known_count
        super().__init__(*args, **kwargs)

    @cached_property
    def count(self) -> int:
        return self.known_count if self.known_count is not None else super().count


class ListListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    model = ProspectList
    table_class = ProspectListTable
    filterset_class = ProspectListFilter
    template_name = "automation/list_list.html"
    table_pagination = {"per_page": 50}  # the table paginates; the view must not count twice


@marketer_required
def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    prospect_list = get_object_or_404(ProspectList, pk=pk)
    members = MemberFilter(
        request.GET, queryset=prospect_list.memberships.prefetch_related("prospect").order_by("-id")
    )
    table = MemberTable(members.qs)
    if prospect_list.kind == ProspectList.Kind.DYNAMIC:
        table.columns.hide("select")
    known = prospect_list.member_count if not request.GET.get("source") else None
    RequestConfig(
        request,
        paginate={
            "per_page": MEMBERS_PER_PAGE,
            "paginator_class": KnownCountPaginator,
            "known_count": known,
        },
    ).configure(table)
    return render(
        request,
        "automation/list_detail.html",
        {
            "list": prospect_list,
            "filter": members,
            "table": table,
            "description": criteria_module.describe(prospect_list.criteria),
        },
    )


def _list_form_page(
    request: HttpRequest,
    form: ProspectListForm,
    prospect_list: ProspectList | None,
    *,
    notes: list[str] | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "list": prospect_list,
        "notes": notes or [],
        **editor_context(),
    }
    if request.method == "POST" and "preview" in request.POST and form.is_valid():
        context["preview"] = preview(form.cleaned_data["criteria"])
    return render(request, "automation/list_form.html", context)


@marketer_required
def list_create(request: HttpRequest) -> HttpResponse:
    notes: list[str] = []
    if request.method == "POST":
        form = ProspectListForm(request.POST)
        if "preview" not in request.POST and form.is_valid():
            prospect_list = form.save(commit=False)
            prospect_list.created_by = request.user
            prospect_list.save()
            _after_list_save(request, prospect_list)
            return redirect("automation:list_detail", pk=prospect_list.pk)
    else:
        initial = {"kind": request.GET.get("kind", ProspectList.Kind.STATIC)}
        if "querystring" in request.GET:
            from django.http import QueryDict

            criteria, unknown = criteria_from_filter(QueryDict(request.GET["querystring"]))
            initial.update(kind=ProspectList.Kind.DYNAMIC, criteria=criteria)
            if unknown:
                notes.append(
                    "These filters have no criteria and were left out: " + ", ".join(unknown) + "."
                )
        form = ProspectListForm(initial=initial)
    return _list_form_page(request, form, None, notes=notes)


@marketer_required
def list_edit(request: HttpRequest, pk: int) -> HttpResponse:
    prospect_list = get_object_or_404(ProspectList, pk=pk)
    if request.method == "POST":
        form = ProspectListForm(request.POST, instance=prospect_list)
        if "preview" not in request.POST and form.is_valid():
            form.save()
            _after_list_save(request, prospect_list)
            return redirect("automation:list_detail", pk=prospect_list.pk)
    else:
        form = ProspectListForm(instance=prospect_list)
    return _list_form_page(request, form, prospect_list)


def _after_list_save(request: HttpRequest, prospect_list: ProspectList) -> None:
    if prospect_list.kind == ProspectList.Kind.DYNAMIC:
        jobs.enqueue_recompute(prospect_list)
        messages.success(
            request, f"Saved “{prospect_list.name}”. Its members are being recomputed."
        )
    else:
        messages.success(request, f"Saved “{prospect_list.name}”.")


@marketer_required
def list_from_filter(request: HttpRequest) -> HttpResponse:
    """The prospect list's "Save as dynamic list": the create page with the filter as criteria."""
    return redirect(reverse("automation:list_create") + "?" + request.GET.urlencode())


@marketer_required
@require_POST
def list_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    prospect_list = get_object_or_404(ProspectList, pk=pk, kind=ProspectList.Kind.DYNAMIC)
    jobs.enqueue_recompute(prospect_list)
    messages.info(request, "Recomputing the members; the count updates when it is done.")
    return redirect("automation:list_detail", pk=pk)


@marketer_required
@require_POST
def list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    prospect_list = get_object_or_404(ProspectList, pk=pk)
    users = [
        c
        for r in Rule.objects.all()
        for c in criteria_module.iter_conditions(r.criteria)
        if c.get("field") == "list" and str(c.get("value")) == str(pk)
    ]
    prospect_list.delete()
    message = f"Deleted the list “{prospect_list.name}”."
    if users:
        message += " Rules whose criteria named it pause with a message at their next run."
    messages.success(request, message)
    return redirect("automation:lists")


@marketer_required
@require_POST
def list_remove_members(request: HttpRequest, pk: int) -> HttpResponse:
    prospect_list = get_object_or_404(ProspectList, pk=pk)
    ids = [int(v) for v in request.POST.getlist("prospect") if v.isdigit()]
    try:
        removed = remove_members(prospect_list, ids, actor=request.user)
    except ListError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed {len(removed):,} member(s).")
    return redirect("automation:list_detail", pk=pk)


@marketer_required
@require_POST
def prospect_lists(request: HttpRequest, pk: int) -> HttpResponse:
    """The prospect page's lists card: add to a static list, or remove from one."""
    prospect = get_object_or_404(Prospect, pk=pk)
    try:
        if "remove" in request.POST:
            prospect_list = get_object_or_404(
                ProspectList,
                pk=request.POST.get("remove", "0")
                if request.POST.get("remove", "").isdigit()
                else 0,
            )
            remove_members(prospect_list, [prospect.pk], actor=request.user)
            messages.success(request, f"Removed from “{prospect_list.name}”.")
        else:
            form = AddToListForm(request.POST)
            if form.is_valid():
                prospect_list = form.cleaned_data["prospect_list"]
                add_members(prospect_list, [prospect.pk], source="manual", actor=request.user)
                messages.success(request, f"Added to “{prospect_list.name}”.")
            else:
                messages.error(request, "Choose a static list.")
    except ListError as error:
        messages.error(request, str(error))
    return redirect("prospects:detail", pk=pk)


class RuleListView(MarketerRequiredMixin, SingleTableMixin, FilterView):
    model = Rule
    table_class = RuleTable
    filterset_class = RuleFilter
    template_name = "automation/rule_list.html"
    table_pagination = {"per_page": 50}  # the table paginates; the view must not count twice


@marketer_required
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    runs = RuleRunTable(rule.runs.all())
    RequestConfig(request, paginate={"per_page": 20}).configure(runs)
    return render(
        request,
        "automation/rule_detail.html",
        {
            "rule": rule,
            "runs": runs,
            "description": criteria_module.describe(rule.criteria),
            "actions": _describe_actions(rule.actions),
            "preview": preview(rule.criteria),
        },
    )


def _describe_actions(actions: list) -> list[str]:
    from automation.actions import InvalidActions, describe_actions, parse_actions

    try:
        return describe_actions(parse_actions(actions))
    except InvalidActions as error:
        return [f"Problem: {e}" for e in error.errors]


def _rule_form_page(request: HttpRequest, form: RuleForm, rule: Rule | None) -> HttpResponse:
    context = {"form": form, "rule": rule, **editor_context()}
    if request.method == "POST" and "preview" in request.POST and form.is_valid():
        context["preview"] = preview(form.cleaned_data["criteria"])
    return render(request, "automation/rule_form.html", context)


@marketer_required
def rule_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RuleForm(request.POST)
        if "preview" not in request.POST and form.is_valid():
            rule = form.save(commit=False)
            rule.created_by = request.user
            rule.save()
            messages.success(
                request, f"Saved “{rule.name}” as a draft: preview its matches, then switch it on."
            )
            return redirect("automation:rule_detail", pk=rule.pk)
    else:
        initial = {"actions": []}
        if request.GET.get("list", "").isdigit():
            initial["criteria"] = {
                "match": "all",
                "conditions": [
                    {"field": "list", "op": "member", "value": int(request.GET["list"])}
                ],
            }
        form = RuleForm(initial=initial)
    return _rule_form_page(request, form, None)


@marketer_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    if request.method == "POST":
        form = RuleForm(request.POST, instance=rule)
        if "preview" not in request.POST and form.is_valid():
            with transaction.atomic():
                rule = form.save(commit=False)
                # Changed criteria or actions: a repeat rule starts over from its current matches.
                rule.watermark = None
                if rule.state == Rule.State.DONE:
                    rule.state = Rule.State.DRAFT
                rule.problem = ""
                rule.save()
            messages.success(request, f"Saved “{rule.name}”.")
            return redirect("automation:rule_detail", pk=rule.pk)
    else:
        form = RuleForm(instance=rule, initial={"actions": rule.actions})
    return _rule_form_page(request, form, rule)


@marketer_required
@require_POST
def rule_switch_on(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a rule on (or resume it) after its preview; matching everyone needs a confirm."""
    rule = get_object_or_404(Rule, pk=pk)
    result = preview(rule.criteria)
    if result.problem:
        messages.error(request, f"Fix the criteria first: {result.problem}")
        return redirect("automation:rule_detail", pk=pk)
    if result.matches_everyone and request.POST.get("confirm_all") != "yes":
        messages.warning(
            request,
            f"This rule matches every prospect ({result.count:,}). Tick “Yes, act on every prospect” to switch it on anyway.",
        )
        return redirect(reverse("automation:rule_detail", args=[pk]) + "?confirm=all")
    activate(rule)
    jobs.enqueue_run(rule, trigger="switched on")
    messages.success(
        request, f"“{rule.name}” is on: running now for {result.count:,} matching prospect(s)."
    )
    return redirect("automation:rule_detail", pk=pk)


@marketer_required
@require_POST
def rule_pause(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    pause(rule)
    messages.success(request, f"Paused “{rule.name}”.")
    return redirect("automation:rule_detail", pk=pk)


@marketer_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    rule.delete()
    messages.success(request, f"Deleted the rule “{rule.name}”.")
    return redirect("automation:rules")


__all__ = ["as_json"]
