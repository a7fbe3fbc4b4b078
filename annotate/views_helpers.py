"""What the workspace's views share: a page or its htmx region, and the queue filters."""

from django.shortcuts import render

from annotate import selectors as sel


def render_page(request, template: str, region: str, context: dict, status: int = 200):
    name = f"{template}#{region}" if request.htmx else template
    return render(request, name, context, status=status)


def queue_filters(request) -> dict:
    data = request.GET if request.method == "GET" else request.POST
    dataset_id = data.get("dataset", "")
    return {
        "dataset_id": int(dataset_id) if dataset_id.isdigit() else None,
        "domain": data.get("domain", "")[:64],
        "status": data.get("status", "") if data.get("status") in sel.STATUS_FILTERS else "",
    }
