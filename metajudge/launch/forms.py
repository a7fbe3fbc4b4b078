"""The runs page's form to start a run."""

from django import forms

from metajudge.launch.services import Launch, scoring_matchers
from metajudge.models import JudgeEndpoint, PromptTemplate

SUBSET_CHOICES = [
    ("all", "All samples (new, stale and failed are redone)"),
    ("domain", "One domain"),
    ("stale", "Only stale matches"),
    ("failed", "Only failed samples"),
]
CHAIN_CHOICES = [("", "No"), ("offline", "Offline matcher"), ("llm", "LLM MetaJudge")]


class RunLaunchForm(forms.Form):
    """Start a run: every kind in one form; fields that a kind does not use are ignored."""

    kind = forms.ChoiceField(
        choices=[
            ("metajudge", "MetaJudge: score a critic's atoms against the human checklists"),
            ("genrm", "GenRM: ask a model to judge every pair (as a critic)"),
            ("verdict", "Verdict: binary meta-judge against golden judgments (R-Align)"),
            ("atomize", "Atomizer: split annotators' free-text reasons into suggested atoms"),
        ]
    )
    critic = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"list": "critic-names", "autocomplete": "off"}),
        help_text="MetaJudge and verdict: a critic with judgments. GenRM: a name (new or not).",
    )
    matcher = forms.ChoiceField(choices=(), required=False, help_text="MetaJudge only")
    endpoint = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="— none —",
        help_text="Configured endpoints only (superusers add them in the admin).",
    )
    template = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="newest of the kind"
    )
    subset = forms.ChoiceField(choices=SUBSET_CHOICES, initial="all", required=False)
    domain = forms.CharField(
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"list": "domain-names", "autocomplete": "off"}),
        help_text="for the “one domain” subset",
    )
    chain_matcher = forms.ChoiceField(
        choices=CHAIN_CHOICES, required=False, label="Then MetaJudge", help_text="GenRM only"
    )
    chain_endpoint = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="— none —", label="MetaJudge endpoint"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matcher"].choices = scoring_matchers()
        self.fields["matcher"].initial = "offline"
        endpoints = JudgeEndpoint.objects.order_by("name")
        self.fields["endpoint"].queryset = endpoints
        self.fields["chain_endpoint"].queryset = endpoints
        self.fields["template"].queryset = PromptTemplate.objects.order_by("kind", "-version")

    def launch(self, dataset):
        data = self.cleaned_data
        return Launch(
            kind=data["kind"],
            dataset=dataset,
            critic=data.get("critic", "").strip(),
            endpoint=data.get("endpoint"),
            matcher=data.get("matcher") or "offline",
            template=data.get("template"),
            subset=data.get("subset") or "all",
            domain=data.get("domain", "").strip(),
            chain_matcher=data.get("chain_matcher", ""),
            chain_endpoint=data.get("chain_endpoint"),
        )
