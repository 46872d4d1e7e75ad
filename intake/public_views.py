"""The public (no-login) pages: form handlers, embedded forms, landing pages and the
preference centre.

Why they are public: they are what a company's website visitors and email recipients reach —
people with no account here. Why the POSTs skip CSRF: see ``intake.protection`` (no session to
abuse; origins, size, rate and honeypot guard them instead). None of these pages shows anything
but what the visitor typed or the preferences of the person a signed link names.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from intake import preferences, protection, received, submissions
from intake.form_models import Form, LandingPage, PublicEntry
from intake.forms import PublicForm
from intake.visitor import remember, visitor_id
from prospects.activities import record_activities
from prospects.models import ActivityType, Prospect

VIEW_DEDUPE_SECONDS = 30 * 60


def _refusal(request: HttpRequest, entry: PublicEntry, *, scope: str) -> HttpResponse | None:
    """The protections every public POST passes, cheapest first: size, rate, origin."""
    if protection.body_too_large(request):
        return _plain("This submission is too large.", 413)
    if protection.rate_limited(request, scope=scope):
        response = _plain("Too many submissions from your address. Try again in a minute.", 429)
        response["Retry-After"] = "60"
        return response
    if not protection.origin_allowed(request, entry.origins):
        return _plain("This form does not accept submissions from that site.", 403)
    return None


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _posted(request: HttpRequest) -> dict[str, list[str]]:
    return dict(request.POST.lists())


# -- form handlers -------------------------------------------------------------------------------


@csrf_exempt  # posted from the customer's own site: see intake.protection for what guards it
@require_POST
def form_handler(request: HttpRequest, slug: str) -> HttpResponse:
    """``POST /fh/<slug>/``: checked and stored at once, applied by a worker within a moment
    (``intake.received``). Success → the success redirect (or a thank-you page); missing or
    bad fields → the error redirect with ``errors`` and one ``error_<field>`` per reason."""
    found = received.active_handler(slug)
    if found is None:
        raise Http404("No such form handler.")
    handler, mapping = found
    if refusal := _refusal(request, handler, scope="fh"):
        return refusal
    result = received.receive(
        handler=handler,
        mapping=mapping,
        posted=_posted(request),
        visitor_id=visitor_id(request),
        details={"referer": request.headers.get("Referer", "")[:500]},
    )
    if not result.ok:
        if handler.error_url:
            return HttpResponseRedirect(_with_query(handler.error_url, _error_query(result)))
        return render(request, "intake/public/errors.html", {"errors": result.errors}, status=400)
    if handler.success_url:
        response: HttpResponse = HttpResponseRedirect(handler.success_url)
    else:
        response = HttpResponse(_thanks_page())
    if result.receipt:
        remember(request, response, f"r{result.receipt}")
    return response


@functools.cache
def _thanks_page() -> str:
    """A form handler's thank-you page: the same for everyone, rendered once per process."""
    return render_to_string("intake/public/thanks.html", {"message": ""})


def _error_query(result: submissions.Submission) -> dict[str, str]:
    query = {"errors": ",".join(result.errors)}
    query.update({f"error_{name}": reason for name, reason in result.errors.items()})
    return query


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(extra)]))
    return urlunsplit(parts._replace(query=query))


# -- forms and landing pages ------------------------------------------------------------------


def _submit_form(
    request: HttpRequest,
    form: Form,
    *,
    source: submissions.Source,
    template: str,
    context: dict,
    title: str = "",
) -> HttpResponse:
    result = submissions.submit(
        entry=form,
        source=source,
        posted=_posted(request),
        visitor_id=visitor_id(request),
        title=title,
        details={"page": request.path},
    )
    if not result.ok:
        shown = PublicForm(form, data=request.POST)
        shown.full_clean()
        for name, reason in result.errors.items():
            shown.add_error(name if name in shown.fields else None, reason)
        return render(request, template, {**context, "public_form": shown}, status=400)
    if form.thank_you_url:
        response: HttpResponse = HttpResponseRedirect(form.thank_you_url)
    else:
        response = render(request, template, {**context, "thanks": form.thank_you_message})
    if result.prospect_id:
        remember(request, response, result.prospect_id)
    return response


def _frame_ancestors(response: HttpResponse, form: Form) -> HttpResponse:
    """The embed view may be framed by the sites the form allows (any site when none listed);
    every other page keeps ``X-Frame-Options: DENY``."""
    origins = " ".join(form.origins) or "*"
    response["Content-Security-Policy"] = f"frame-ancestors 'self' {origins}"
    return response


@csrf_exempt  # shown in an iframe on another site, where no CSRF cookie reaches: see protection
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def form_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """``/f/<slug>/``: the form alone, for an iframe on the customer's site."""
    form = get_object_or_404(Form.objects.prefetch_related("fields"), slug=slug, is_active=True)
    context = {"form_obj": form, "public_form": PublicForm(form), "action": request.path}
    if request.method == "GET":
        return _frame_ancestors(render(request, "intake/public/form_embed.html", context), form)
    if refusal := _refusal(request, form, scope="form"):
        return refusal
    response = _submit_form(
        request,
        form,
        source=submissions.FORM,
        template="intake/public/form_embed.html",
        context=context,
    )
    return _frame_ancestors(response, form)


@csrf_exempt  # the visitor has no session here: see intake.protection for what guards it
@require_http_methods(["GET", "POST"])
def landing_page(request: HttpRequest, slug: str) -> HttpResponse:
    """``/l/<slug>/``: title, text and form. GET only shows it (the view is counted by the
    page's beacon, ``landing_page_view``); POST submits the form."""
    page = get_object_or_404(LandingPage.objects.select_related("form"), slug=slug, is_active=True)
    form = page.form if page.form is not None and page.form.is_active else None
    context = {
        "page": page,
        "form_obj": form,
        "public_form": PublicForm(form) if form else None,
        "action": request.path,
    }
    if request.method == "GET" or form is None:
        return render(request, "intake/public/landing_page.html", context)
    if refusal := _refusal(request, form, scope="form"):
        return refusal
    return _submit_form(
        request,
        form,
        source=submissions.LANDING_PAGE,
        template="intake/public/landing_page.html",
        context=context,
        title=page.name,
    )


@csrf_exempt  # a beacon from our own page, carrying nothing but the signed visitor cookie
@require_POST
def landing_page_view(request: HttpRequest, slug: str) -> HttpResponse:
    """``POST /l/<slug>/view/``: the landing page's view beacon.

    Views are counted here rather than on GET: a GET must change nothing (link scanners and
    prefetchers open pages nobody reads, and would earn scores), and only a browser that runs
    the page's script sends the beacon. A view is recorded for a visitor the cookie names, at
    most once per page per half hour.
    """
    page = get_object_or_404(LandingPage, slug=slug, is_active=True)
    prospect_id = visitor_id(request)
    if prospect_id is None or not protection.same_origin(request):
        return HttpResponse(status=204)  # another site cannot inflate a visitor's views
    if protection.rate_limited(request, scope="view"):
        return HttpResponse(status=204)
    if not Prospect.objects.active().filter(pk=prospect_id).exists():
        return HttpResponse(status=204)
    if _first_view_in_a_while(page.pk, prospect_id):
        record_activities(
            [prospect_id],
            ActivityType.LANDING_PAGE_VIEW,
            title=page.name,
            details={"page": page.get_public_url()},
        )
    return HttpResponse(status=204)


def _first_view_in_a_while(page_id: int, prospect_id: int) -> bool:
    key = f"leadbridge:lpview:{page_id}:{prospect_id}"
    try:
        return bool(protection.redis_connection().set(key, 1, nx=True, ex=VIEW_DEDUPE_SECONDS))
    except Exception:  # noqa: BLE001 - without Redis every view counts
        return True


# -- the preference centre ---------------------------------------------------------------------


def _link_prospect(request: HttpRequest, token: str) -> Prospect | HttpResponse:
    try:
        return preferences.read_token(token)
    except preferences.LinkRefused as refused:
        return render(
            request, "intake/public/link_refused.html", {"message": refused.message}, status=400
        )


@require_http_methods(["GET", "POST"])
def preference_centre(request: HttpRequest, token: str) -> HttpResponse:
    """``/p/<token>/``: the person's email preferences (a CSRF-protected form of our own)."""
    prospect = _link_prospect(request, token)
    if isinstance(prospect, HttpResponse):
        return prospect
    saved = False
    if request.method == "POST":
        preferences.set_preferences(
            prospect,
            opted_out=request.POST.get("opted_out") == "on",
            do_not_email=request.POST.get("do_not_email") == "on",
        )
        prospect.refresh_from_db()
        saved = True
    return render(
        request,
        "intake/public/preferences.html",
        {"prospect": prospect, "token": token, "saved": saved},
    )


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs with no page, no cookie, no token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """``/p/<token>/unsubscribe/``: GET asks to confirm (a link scanner's GET must not
    unsubscribe anyone); POST — the button, or a mail client's one-click ``List-Unsubscribe=
    One-Click`` — opts out every prospect with the person's email and answers 200."""
    prospect = _link_prospect(request, token)
    if isinstance(prospect, HttpResponse):
        return prospect
    if request.method == "POST":
        preferences.unsubscribe(prospect)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return _plain("You are unsubscribed.", 200)
    return render(
        request,
        "intake/public/unsubscribe.html",
        {"prospect": prospect, "token": token, "done": request.method == "POST"},
    )


@require_http_methods(["GET", "POST"])
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """``/p/<token>/resubscribe/``: GET asks to confirm, POST (CSRF-protected) opts back in."""
    prospect = _link_prospect(request, token)
    if isinstance(prospect, HttpResponse):
        return prospect
    if request.method == "POST":
        preferences.resubscribe(prospect)
    return render(
        request,
        "intake/public/resubscribe.html",
        {"prospect": prospect, "token": token, "done": request.method == "POST"},
    )
