from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError

from metajudge.llm import keys
from metajudge.models import Critic, JudgeEndpoint, PromptTemplate
from metajudge.services.endpoints import endpoint_validate_url


class JudgeEndpointForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", help_text="blank: OPENAI_BASE_URL"
    )

    class Meta:
        model = JudgeEndpoint
        fields = [
            "name",
            "base_url",
            "model",
            "api_key_env",
            "max_concurrency",
            "requests_per_minute",
            "temperature",
            "max_tokens",
            "timeout",
        ]
        help_texts = {"api_key_env": "The NAME of an environment variable; never the key."}

    def clean_base_url(self):
        url = self.cleaned_data["base_url"]
        if url:
            endpoint_validate_url(url)
        return url

    def clean_api_key_env(self):
        name = self.cleaned_data["api_key_env"]
        problem = keys.refusal(name, settings.JUDGE_API_KEY_ENV_ALLOWED)
        if problem:
            raise ValidationError(problem)
        return name


@admin.register(JudgeEndpoint)
class JudgeEndpointAdmin(admin.ModelAdmin):
    """Only superusers configure endpoints: staff without superuser status get no access."""

    form = JudgeEndpointForm
    list_display = ["name", "model", "base_url", "max_concurrency", "requests_per_minute"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "kind", "created_at"]
    list_filter = ["kind"]


admin.site.register(Critic)
