"""A checklist's history: every revision, the diff of two, and restoring one as a new revision."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from annotate import selectors as sel
from annotate.access import get_checklist
from annotate.models import Checklist
from annotate.services.checklists import ChecklistConflict, checklist_restore
from annotate.views_helpers import render_page


@require_GET
def checklist_history(request, checklist_id: int):
    checklist = get_checklist(request.user, checklist_id)
    can_restore = (
        checklist.owner_id == request.user.pk and checklist.status in Checklist.EDITABLE_STATUSES
    )
    context = {
        "checklist": checklist,
        "pair": checklist.pair,
        "can_restore": can_restore,
        "revisions": sel.revisions_of(checklist),
    }
    return render_page(request, "annotate/history.html", "history", context)


@require_GET
def checklist_diff(request, checklist_id: int):
    checklist = get_checklist(request.user, checklist_id)
    revisions = {r.number: r for r in sel.revisions_of(checklist)}
    new_n = _int(request.GET.get("b"), checklist.version)
    old_n = _int(request.GET.get("a"), new_n - 1)
    old, new = revisions.get(old_n), revisions.get(new_n)
    context = {
        "checklist": checklist,
        "pair": checklist.pair,
        "old": old,
        "new": new,
        "diff": sel.atom_diff(old.atoms if old else [], new.atoms if new else []),
        "revisions": list(revisions.values()),
    }
    return render_page(request, "annotate/history.html", "diff", context)


def _int(value, default: int) -> int:
    return int(value) if value and str(value).isdigit() else default


@require_POST
def checklist_restore_view(request, checklist_id: int):
    checklist = get_checklist(request.user, checklist_id)
    number = _int(request.POST.get("number"), 0)
    try:
        checklist_restore(
            checklist_id=checklist.pk,
            user=request.user,
            number=number,
            version=_int(request.POST.get("version"), -1),
        )
    except ChecklistConflict:
        messages.error(request, "The checklist changed meanwhile; look again before restoring.")
        return redirect("annotate:history", checklist.pk)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("annotate:history", checklist.pk)
    messages.success(request, f"Restored revision {number} as a new revision.")
    return redirect("annotate:checklist", checklist.pk)
