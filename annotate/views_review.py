"""The reviewer's side of the workspace: the review queue, a review, human agreement."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotate import selectors as sel
from annotate.access import REVIEWER, get_checklist, get_dataset_by_id, has_role
from annotate.dispatch import agreement_for
from annotate.services.reviews import checklist_review
from annotate.views_helpers import queue_filters, render_page


@require_GET
def review_queue(request):
    if not has_role(request.user, REVIEWER):
        raise PermissionDenied("Only reviewers may review checklists.")
    f = queue_filters(request)
    context = {
        "queue": sel.review_queue(request.user, dataset_id=f["dataset_id"])[:100],
        "recent": sel.recently_reviewed(request.user),
        "datasets": sel.datasets_with_counts(request.user, role=REVIEWER),
        "filters": f,
    }
    return render_page(request, "annotate/review.html", "review_queue", context)


@require_POST
def review_view(request, checklist_id: int):
    checklist = get_checklist(request.user, checklist_id, review=True)
    try:
        checklist_review(
            checklist_id=checklist.pk,
            reviewer=request.user,
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("annotate:checklist", checklist.pk)
    messages.success(request, "Review recorded.")
    return redirect(reverse("annotate:review"))


@require_GET
def agreement(request):
    f = queue_filters(request)
    datasets = sel.datasets_with_counts(request.user)
    if f["dataset_id"]:
        datasets = [get_dataset_by_id(request.user, f["dataset_id"])]
    rows = [(d, agreement_for(d)) for d in datasets]
    return render_page(request, "annotate/agreement.html", "agreement", {"rows": rows})
