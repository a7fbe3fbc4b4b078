"""Browse and search pairs; a row opens the pair read-only, without claiming a slot."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotate.access import visible_datasets
from annotate.models import Pair
from annotate.selectors_browse import STATUSES, browse_page, browse_pairs


@require_GET
def browse(request):
    params = request.GET
    dataset = params.get("dataset", "")
    filters = {
        "q": params.get("q", "")[:200],
        "dataset_id": int(dataset) if dataset.isdigit() else None,
        "domain": params.get("domain", "")[:64],
        "status": params.get("status", "") if params.get("status") in STATUSES else "",
    }
    datasets = visible_datasets(request.user)
    context = {
        "filters": filters,
        "statuses": STATUSES.items(),
        "datasets": datasets,
        "domains": list(
            Pair.objects.filter(dataset__in=datasets)
            .exclude(domain="")
            .order_by("domain")
            .values_list("domain", flat=True)
            .distinct()
        ),
        **browse_page(browse_pairs(request.user, **filters), params.get("after")),
    }
    name = "annotate/browse.html#results" if request.htmx else "annotate/browse.html"
    return render(request, name, context)
