"""``portal.wsgi.application``: form handler posts take the lean handler, the rest Django's
full stack; both answer as the pages expect."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from intake.models import ReceivedSubmission
from intake.received import store_buffered
from portal import wsgi
from tests.intake.conftest import make_handler

pytestmark = pytest.mark.django_db


def call(request):
    """Run the WSGI application on a request's environ: (status, headers, body)."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    # As Django's test client does: the test's connection (its transaction) outlives the request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        body = b"".join(wsgi.application(request.environ, start_response))
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return answer["status"], answer["headers"], body


def cookies(headers):
    return {value.split("=", 1)[0] for name, value in headers if name == "Set-Cookie"}


def test_a_form_handler_post_skips_sessions_and_csrf_but_keeps_the_security_headers(db):
    make_handler(success_url="https://www.acme.example/thanks")
    request = RequestFactory().post("/fh/contact-us/", {"email": "ada@example.com"})
    status, headers, _ = call(request)
    assert status.startswith("302")
    assert dict(headers)["Location"] == "https://www.acme.example/thanks"
    assert dict(headers)["X-Frame-Options"] == "DENY"
    assert dict(headers)["X-Content-Type-Options"] == "nosniff"
    assert cookies(headers) == {"lb_visitor"}  # no session, no CSRF cookie
    store_buffered()  # SQLite's posts wait in the Redis buffer for the worker to store them
    assert ReceivedSubmission.objects.get().posted == {"email": ["ada@example.com"]}


def test_an_unknown_handler_is_404_and_a_get_405_through_the_lean_handler(db):
    make_handler()
    assert call(RequestFactory().post("/fh/nobody/", {"email": "a@b.example"}))[0] == (
        "404 Not Found"
    )
    assert call(RequestFactory().get("/fh/contact-us/"))[0].startswith("405")


def test_every_other_path_takes_the_full_stack(db):
    status, headers, body = call(RequestFactory().get("/login/"))
    assert status.startswith("200")
    assert "csrftoken" in cookies(headers)
    assert b"csrfmiddlewaretoken" in body
    assert wsgi.PUBLIC_PATHS == ("/fh/",)
