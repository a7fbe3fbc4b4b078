"""The annotator workspace: small views, one access check and one service call each."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from annotate import selectors as sel
from annotate.access import REVIEWER, get_checklist, get_pair, has_role
from annotate.hints import atom_hints
from annotate.models import Checklist
from annotate.services.assignments import checklist_claim, checklist_claim_next
from annotate.services.checklists import (
    ChecklistConflict,
    ClaimLost,
    checklist_save,
    checklist_submit,
)
from annotate.services.suggestions import suggestion_decide
from annotate.views_helpers import queue_filters, render_page

STATUS_CHOICES = [
    ("", "Any"),
    ("todo", "To do"),
    ("in_progress", "In progress"),
    ("submitted", "Submitted"),
    ("sent_back", "Sent back"),
]


def home(request):
    return redirect("annotate:index")


@require_GET
def index(request):
    f = queue_filters(request)
    user = request.user
    mine = list(sel.my_checklists(user, **f)[: sel.QUEUE_LIMIT])
    context = {
        "datasets": sel.datasets_with_counts_cached(user),
        "mine": mine,
        "next_open": _next_open(user, mine, f),
        "next_pair": sel.claimable_pairs(
            user, dataset_id=f["dataset_id"], domain=f["domain"]
        ).first(),
        "progress": sel.my_progress(user),
        "domains": sel.queue_domains(user),
        "my_datasets": sel.annotatable_datasets(user),
        "filters": f,
        "status_choices": STATUS_CHOICES,
    }
    return render_page(request, "annotate/index.html", "queue", context)


def _next_open(user, mine: list, filters: dict):
    """What N opens first: my open work (claim_next ignores the filters for it). Unfiltered,
    `mine` is already in that order, so no extra query."""
    if any(filters.values()):
        return sel.next_open_checklist(user)
    first = mine[0] if mine else None
    return first if first and first.status in Checklist.OPEN_STATUSES else None


def claim_next(request):
    if request.method != "POST":
        return redirect("annotate:index")
    f = queue_filters(request)
    skip = request.POST.get("skip", "")
    checklist = sel.next_open_checklist(
        request.user, exclude_id=int(skip) if skip.isdigit() else None
    ) or checklist_claim_next(
        user=request.user,
        pairs=sel.claimable_pairs(request.user, dataset_id=f["dataset_id"], domain=f["domain"]),
    )
    if checklist is None:
        messages.info(request, "Nothing left to claim with these filters. Well done.")
        return redirect("annotate:index")
    return redirect("annotate:checklist", checklist.pk)


@require_POST
def claim_pair(request, pair_id: int):
    pair = get_pair(request.user, pair_id)
    if pair.dataset.members.filter(pk=request.user.pk).exists():
        checklist = checklist_claim(user=request.user, pair=pair)
        if checklist is not None:
            return redirect("annotate:checklist", checklist.pk)
    messages.error(request, "Every slot of this pair is taken.")
    return redirect("annotate:pair", pair.pk)


def _workspace(request, pair, checklist, *, status: int = 200, region: str = "workspace"):
    editable = bool(
        checklist
        and checklist.owner_id == request.user.pk
        and checklist.status in Checklist.EDITABLE_STATUSES
    )
    atoms = checklist.atoms if checklist else []
    context = {
        "pair": pair,
        "checklist": checklist,
        "editable": editable,
        "atoms": [(a, atom_hints(a)) for a in atoms],
        "suggestions": sel.open_suggestions(checklist) if editable else [],
        "review": sel.latest_review(checklist) if checklist else None,
        "is_reviewer": has_role(request.user, REVIEWER, pair.dataset_id),
    }
    if checklist is None:
        context["others"] = sel.pair_checklists(pair) if context["is_reviewer"] else []
    return render_page(request, "annotate/pair.html", region, context, status=status)


@require_GET
def pair_detail(request, pair_id: int):
    pair = get_pair(request.user, pair_id)
    mine = pair.checklists.filter(owner=request.user).select_related("current").first()
    return _workspace(request, pair, mine)


@require_GET
def checklist_detail(request, checklist_id: int):
    checklist = get_checklist(request.user, checklist_id)
    return _workspace(request, checklist.pair, checklist)


def _edit_args(request, checklist) -> dict:
    """Atoms and version from the editor; without them (no-JS forms) the current ones."""
    if "version" not in request.POST:
        return {"atoms": checklist.atoms, "version": checklist.version}
    version = request.POST["version"]
    return {
        "atoms": request.POST.getlist("atom"),
        "version": int(version) if version.isdigit() else -1,
    }


def _conflict(request, exc: ChecklistConflict):
    current = exc.checklist
    context = {
        "checklist": current,
        "mine": exc.mine,
        "theirs": current.atoms,
        "diff": sel.atom_diff(current.atoms, exc.mine),
        "author": current.current.author if current.current_id else None,
    }
    response = render(request, "annotate/pair.html#conflict", context, status=409)
    return reswap(retarget(response, "#conflict"), "outerHTML") if request.htmx else response


def _status(request, checklist, message: str, *, status: int = 200, ok: bool = False):
    context = {"checklist": checklist, "message": message, "ok": ok, "oob": request.htmx}
    return render(request, "annotate/pair.html#save_status", context, status=status)


@require_POST
def checklist_save_view(request, checklist_id: int):
    checklist = get_checklist(request.user, checklist_id)
    try:
        result = checklist_save(
            checklist_id=checklist.pk, user=request.user, **_edit_args(request, checklist)
        )
    except ChecklistConflict as exc:
        return _conflict(request, exc)
    except ClaimLost as exc:
        return _status(request, checklist, str(exc), status=403)
    except (ValidationError, PermissionDenied) as exc:
        return _status(
            request, checklist, " ".join(getattr(exc, "messages", [str(exc)])), status=422
        )
    if not request.htmx:
        messages.success(request, f"Saved revision {result.checklist.version}.")
        return redirect("annotate:checklist", checklist.pk)
    return _status(request, result.checklist, "", ok=True)


@require_POST
def checklist_submit_view(request, checklist_id: int):
    checklist = get_checklist(request.user, checklist_id)
    args = _edit_args(request, checklist)
    try:
        checklist_submit(checklist_id=checklist.pk, user=request.user, **args)
    except ChecklistConflict as exc:
        return _conflict(request, exc)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("annotate:checklist", checklist.pk)
    messages.success(request, "Submitted for review. Press N for the next pair.")
    return redirect("annotate:checklist", checklist.pk)


@require_POST
def suggestion_view(request, checklist_id: int, suggestion_id: int):
    checklist = get_checklist(request.user, checklist_id)
    try:
        result = suggestion_decide(
            suggestion_id=suggestion_id,
            checklist_id=checklist.pk,
            user=request.user,
            accept=request.POST.get("action") == "accept",
            text=request.POST.get("text", ""),
            **_edit_args(request, checklist),
        )
    except ChecklistConflict as exc:
        return _conflict(request, exc)
    except (ValidationError, PermissionDenied) as exc:
        return _status(
            request, checklist, " ".join(getattr(exc, "messages", [str(exc)])), status=422
        )
    if not request.htmx:
        return redirect("annotate:checklist", checklist.pk)
    return _workspace(request, checklist.pair, result.checklist, region="workspace")
