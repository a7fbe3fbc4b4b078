"""The API docs page: drf-spectacular's Swagger UI with the app's header, so there is a way back."""

from drf_spectacular.views import SpectacularSwaggerView


class ApiDocsView(SpectacularSwaggerView):
    template_name = "api_docs.html"
