"""annotate's models, one module per question: datasets, their members and pairs (datasets),
human checklists, revisions and reviews (checklists), suggested atoms (suggestions), the stored
human agreement (agreement), uploads imported by a worker (jobs)."""

from annotate.models.agreement import DatasetAgreement
from annotate.models.checklists import Checklist, ChecklistRevision, Review
from annotate.models.datasets import Dataset, DatasetMembership, Pair
from annotate.models.jobs import ImportJob
from annotate.models.suggestions import AtomSuggestion, SuggestionDecision

__all__ = [
    "AtomSuggestion",
    "Checklist",
    "ChecklistRevision",
    "Dataset",
    "DatasetAgreement",
    "DatasetMembership",
    "ImportJob",
    "Pair",
    "Review",
    "SuggestionDecision",
]
