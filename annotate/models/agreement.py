"""Human-vs-human agreement per dataset, computed by a worker and stored with the fingerprint
of the checklists it was computed from (pages read it; a changed fingerprint asks again)."""

from django.db import models


class DatasetAgreement(models.Model):
    dataset = models.OneToOneField(
        "annotate.Dataset", on_delete=models.CASCADE, related_name="stored_agreement"
    )
    fingerprint = models.CharField(max_length=200)
    value = models.JSONField(help_text="annotate.selectors.human_agreement, with its interval")
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"agreement of dataset {self.dataset_id} at {self.computed_at}"
