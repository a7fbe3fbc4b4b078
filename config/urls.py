from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from annotate import views as annotate_views
from config import health
from config.api_docs import ApiDocsView
from config.auth import ThrottledLoginView

urlpatterns = [
    path("", annotate_views.home, name="home"),
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
    ),
    path("healthz", login_not_required(health.healthz), name="healthz"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    # Only the account views this app uses: no e-mail password reset (no mail is configured).
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("annotate/", include("annotate.urls")),
    path("audit/", include("metajudge.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "api/docs/",
        login_not_required(ApiDocsView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
