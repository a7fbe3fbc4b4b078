"""The seam through which annotate announces changes that others derive figures from.

annotate imports nothing of metajudge's internals: metajudge connects its receivers to these
signals in MetajudgeConfig.ready(). Signals are sent synchronously, in the sender's thread."""

from django.dispatch import Signal

# Sent with dataset_id once checklists of a dataset were added in bulk (after the import's
# transaction, so a worker asked to recompute sees them).
checklists_changed = Signal()

# Sent with pair_id once a new revision of the pair's human checklist is committed (from the
# save's on_commit, as the staleness marking always ran): matches that scored an older revision
# are stale from then on.
checklist_revised = Signal()
