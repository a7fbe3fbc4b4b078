"""Login with a brute-force brake: too many failures from one address (or for one username)
within a window answer 429 until the window passes."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache

from config.net import client_address


def _keys(request) -> list[str]:
    address = client_address(request)  # the real client, not the proxy in front of us
    username = (request.POST.get("username") or "").strip().lower()[:150]
    return [f"login-fail:ip:{address}", f"login-fail:user:{username}"]


def login_blocked(request) -> bool:
    return any((cache.get(k) or 0) >= settings.LOGIN_MAX_FAILURES for k in _keys(request))


def login_failed(request) -> None:
    for key in _keys(request):
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        if login_blocked(request):
            form = self.get_form()
            form.add_error(None, "Too many failed attempts. Wait a few minutes and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failed(self.request)
        return super().form_invalid(form)
