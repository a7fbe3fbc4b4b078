from django.http import HttpResponseBadRequest


class RejectNulMiddleware:
    """A NUL character in the path or a query parameter can never match anything here, and
    PostgreSQL refuses it in text: answer 400 instead of letting a lookup fail with a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            return HttpResponseBadRequest("NUL characters are not allowed in URLs.")
        return self.get_response(request)
