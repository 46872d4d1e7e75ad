"""``{% prospect_lists prospect %}``: the prospect page's lists card (prospects sits below
automation, so its page reaches the memberships through this tag)."""

from django import forms, template

from automation.forms import AddToListForm
from automation.models import ListMembership

register = template.Library()


@register.inclusion_tag("automation/_prospect_lists.html")
def prospect_lists(prospect) -> dict:
    memberships = (
        ListMembership.objects.filter(prospect=prospect)
        .select_related("list")
        .order_by("list__name")
    )
    return {"prospect": prospect, "memberships": list(memberships), "form": AddToListForm()}


@register.inclusion_tag("automation/_actions_editor.html", takes_context=True)
def actions_editor(context, field) -> dict:
    """The action-set editor over ``field`` (a JSON field of actions): one blank form per action
    type the user may use, cloned by ``static/automation/actions.js`` into rows. Names of users,
    queues, campaigns and lists reach the page as escaped ``<option>`` text, never as JSON."""
    from automation.action_forms import ACTION_FORMS, DoNotSyncForm, styled
    from automation.bulk import allowed_types

    blanks = []
    for kind in allowed_types(context["request"].user):
        form = styled(ACTION_FORMS[kind](auto_id=False))
        if isinstance(form, DoNotSyncForm):  # both directions, said in words
            form.fields["value"].widget = forms.Select(
                choices=[("true", "Mark “do not sync”"), ("false", "Clear “do not sync”")],
                attrs={"class": "form-select"},
            )
        for name, form_field in form.fields.items():
            attrs = {"data-key": name, "aria-label": form[name].label}
            if form_field.help_text and getattr(form_field.widget, "input_type", "") in (
                "text",
                "number",
            ):
                attrs["placeholder"] = form_field.help_text
            form_field.widget.attrs.update(attrs)
        blanks.append((kind, form.title, form))
    return {"field": field, "blanks": blanks}
