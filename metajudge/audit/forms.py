"""The reviewer's verdict on a spurious-correct case."""

from django import forms

from metajudge.models import AuditVerdict


class VerdictForm(forms.Form):
    kind = forms.ChoiceField(
        label="Verdict", choices=AuditVerdict.Kind.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required for “human checklist incomplete”: it is the note annotators get.",
    )
