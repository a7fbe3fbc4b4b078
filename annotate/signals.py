"""The seam through which annotate announces changes that others derive figures from."""

from django.dispatch import Signal

# Sent with dataset_id once checklists of a dataset were added in bulk (after the import's
# transaction, so a worker asked to recompute sees them).
checklists_changed = Signal()
