"""My API keys: each user makes and revokes their own keys (the key is shown once)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from api.forms import ApiKeyForm
from api.models import ApiKey, create_key, revoke_key
from api.tables import ApiKeyTable
from core.roles import marketer_required


@marketer_required
def key_list(request: HttpRequest) -> HttpResponse:
    """The user's live keys; a POST makes a new one and shows it on this answer only."""
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _row, new_key = create_key(user=request.user, name=form.cleaned_data["name"])
        form = ApiKeyForm()
    table = ApiKeyTable(ApiKey.objects.live().filter(user=request.user))
    response = render(request, "api/keys.html", {"form": form, "table": table, "new_key": new_key})
    response["Cache-Control"] = "no-store"  # the new key must not stay in a cache
    return response


@marketer_required
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk, user=request.user)
    if revoke_key(key=key):
        messages.success(request, f"Key “{key.name}” revoked: it no longer works.")
    return redirect("api:keys")
