"""Styled error pages with a way back. The 500 page renders without the request context
(the request may be what broke), so it needs nothing beyond static files and URLs."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def _page(request, status: int, title: str, text: str):
    context = {"status": status, "title": title, "text": text}
    return render(request, "error.html", context, status=status)


def permission_denied(request, exception=None):
    reason = str(exception) if exception and str(exception) else ""
    text = reason or "You do not have access to this page."
    return _page(request, 403, "Not for your role", text)


def page_not_found(request, exception=None):
    return _page(request, 404, "Page not found", "There is nothing at this address.")


def server_error(request):
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({}))
