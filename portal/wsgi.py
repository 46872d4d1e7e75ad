"""The WSGI application gunicorn serves (``portal.wsgi``, the Procfile's web process).

Form handler posts (``/fh/``) come from visitors of the customer's site, with no session, no
login and no CSRF token (see ``intake.protection`` for what guards them instead), at rates a
campaign launch decides. They go through a handler of their own with only the middleware that
applies to them (``PUBLIC_MIDDLEWARE``: security headers, common URL handling, frame denial):
sessions, authentication, the idle timeout, messages, login lockouts, CSRF and static files
cost a form post time and do nothing for it. Every other path takes Django's full stack.
"""

import os

from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# Paths (prefixes) served by the lean handler.
PUBLIC_PATHS = ("/fh/",)
# Their middleware: what still applies to a form post from another site.
PUBLIC_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def load_public_middleware(handler: BaseHandler) -> None:
    """``BaseHandler.load_middleware`` (synchronous) with ``PUBLIC_MIDDLEWARE`` instead of
    ``settings.MIDDLEWARE``; the tests' client handler loads it the same way."""
    handler._view_middleware = []
    handler._template_response_middleware = []
    handler._exception_middleware = []
    chain = convert_exception_to_response(handler._get_response)
    for path in reversed(PUBLIC_MIDDLEWARE):
        middleware = import_string(path)(chain)
        if hasattr(middleware, "process_view"):
            handler._view_middleware.insert(0, middleware.process_view)
        if hasattr(middleware, "process_template_response"):
            handler._template_response_middleware.append(middleware.process_template_response)
        if hasattr(middleware, "process_exception"):
            handler._exception_middleware.append(middleware.process_exception)
        chain = convert_exception_to_response(middleware)
    handler._middleware_chain = chain


class PublicHandler(WSGIHandler):
    """Django's WSGI handler with ``PUBLIC_MIDDLEWARE`` instead of ``settings.MIDDLEWARE``."""

    def load_middleware(self, is_async: bool = False) -> None:
        load_public_middleware(self)


full = get_wsgi_application()  # sets Django up
public = PublicHandler()


def application(environ, start_response):
    """Form handler posts to the lean handler, everything else to Django's full stack."""
    if environ.get("PATH_INFO", "").startswith(PUBLIC_PATHS):
        return public(environ, start_response)
    return full(environ, start_response)
