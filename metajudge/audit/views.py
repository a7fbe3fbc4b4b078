"""Reviewer audit pages. Each view: access check, one selector or service call, render."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from annotate.access import REVIEWER
from annotate.markdown import render_markdown
from annotate.selectors import datasets_with_counts
from metajudge.access import get_audit_dataset, get_result, require_reviewer
from metajudge.audit.forms import VerdictForm
from metajudge.audit.selectors import (
    BREAKDOWNS,
    breakdown,
    chosen_runs,
    dashboard,
    parse_threshold,
)
from metajudge.audit.services import verdict_record
from metajudge.audit.triage import (
    QueueFilters,
    case_detail,
    critic_runs,
    dataset_domains,
    neighbours,
    queue_page,
    spurious_queue,
)
from metajudge.runs import match_runs as run_services
from metajudge.selectors import preference

QUEUE_PARAMS = ("critic", "run", "threshold", "domain", "verdict", "reviewed")


def _partial(request, page: str, region: str) -> str:
    return f"{page}#{region}" if request.htmx else page


def _queue_query(params) -> str:
    return urlencode({k: params[k] for k in QUEUE_PARAMS if params.get(k)})


def audit_index(request):
    require_reviewer(request.user)
    datasets = datasets_with_counts(request.user, role=REVIEWER)  # only those they review
    return render(request, "audit/index.html", {"datasets": datasets})


def dataset_dashboard(request, name: str):
    dataset = get_audit_dataset(request.user, name)
    threshold = parse_threshold(request.GET.get("threshold"))
    chosen = chosen_runs(request.GET)
    by = request.GET.get("by", "")
    if request.htmx and request.htmx.target == "breakdown":
        by = by if by in BREAKDOWNS else "domain"
        table = breakdown(dataset, by=by, threshold=threshold, chosen=chosen)
        return render(
            request,
            "audit/dashboard.html#breakdown",
            {"dataset": dataset, "breakdown": table, "threshold": threshold},
        )
    context = {"dataset": dataset, **dashboard(dataset, threshold=threshold, chosen=chosen)}
    context["chart"] = _chart(dataset, context)
    if by in BREAKDOWNS:
        context["breakdown"] = breakdown(dataset, by=by, threshold=threshold, chosen=chosen)
    return render(request, _partial(request, "audit/dashboard.html", "figures"), context)


def _chart(dataset, context: dict) -> dict:
    """Plain data for the scatter plot; passed with json_script, drawn by Chart.js."""
    triage = reverse("audit:triage", args=[dataset.name])
    points = [
        {
            "critic": r["critic"],
            "matcher": r["matcher"],
            "judge": r["judge_model"],
            "x": r["outcome_accuracy"],
            "y": r["rationale_consistency"],
            "s_corr": r["s_corr"],
            "ap": r["average_precision"],
            "f1": r["f1"],
            "f_score": r["f_score"],
            "valid": r["valid_samples"],
            "divergent": r.get("divergent", False),
            "url": triage
            + "?"
            + urlencode({"critic": r["critic"], "threshold": context["threshold"]}),
        }
        for r in context["rows"]
    ]
    links = [[a["critic"], b["critic"]] for a, b in context["divergent"]]
    ceiling = context["ceiling"]
    return {
        "points": points,
        "links": links,
        "ceiling": ceiling["mean_recall"],
        "ceiling_n": ceiling["pairs"],
        "ceiling_low": ceiling.get("ci_low"),
        "ceiling_high": ceiling.get("ci_high"),
        "threshold": context["threshold"],
        "judges": sorted({p["judge"] for p in points}),
    }


def triage(request, name: str):
    dataset = get_audit_dataset(request.user, name)
    runs = critic_runs(dataset, request.GET.get("critic", ""))
    if not runs:
        raise Http404("No runs for this critic.")
    default = min(runs, key=preference)
    run = next((r for r in runs if str(r.pk) == request.GET.get("run")), default)
    filters = QueueFilters.from_params(request.GET)
    queue = spurious_queue(run, filters)
    context = {
        "dataset": dataset,
        "run": run,
        "runs": runs,
        "filters": filters,
        "page": queue_page(queue, after=request.GET.get("after")),
        "total": queue.count(),
        "domains": dataset_domains(dataset),
        "query": _queue_query(request.GET),
        "verdict_kinds": VerdictForm.base_fields["kind"].choices,
    }
    return render(request, _partial(request, "audit/triage.html", "queue"), context)


def case(request, pk: int):
    result = get_result(request.user, pk)
    # The match summary polls itself while a re-run is pending.
    polling = request.htmx and request.htmx.target == "match-status"
    return render(
        request,
        "audit/case.html#match_status" if polling else "audit/case.html",
        _case_context(
            request,
            result,
            VerdictForm(
                initial={"kind": getattr(getattr(result, "audit_verdict", None), "kind", None)}
            ),
        ),
    )


def _case_context(request, result, form) -> dict:
    filters = QueueFilters.from_params(request.GET)
    prev_id, next_id = neighbours(spurious_queue(result.run, filters), result)
    pair = result.pair
    return {
        "result": result,
        "pair": pair,
        "run": result.run,
        "dataset": result.run.dataset,
        **case_detail(result),
        "form": form,
        "prev_id": prev_id,
        "next_id": next_id,
        "query": _queue_query(request.GET),
        "filters": filters,
        "response_1": render_markdown(pair.response_1),
        "response_2": render_markdown(pair.response_2),
    }


@require_POST
def case_verdict(request, pk: int):
    result = get_result(request.user, pk)
    form = VerdictForm(request.POST)
    if form.is_valid():
        try:
            verdict_record(result=result, reviewer=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if not form.errors:
        result = get_result(request.user, pk)
    if request.htmx:
        return render(request, "audit/case.html#verdict", _case_context(request, result, form))
    if form.errors:
        return render(request, "audit/case.html", _case_context(request, result, form), status=400)
    messages.success(request, "Verdict recorded.")
    return redirect(_case_url(request, pk))


@require_POST
def case_rerun(request, pk: int):
    result = run_services.result_rerun(result=get_result(request.user, pk))
    if request.htmx:
        context = _case_context(request, get_result(request.user, result.pk), VerdictForm())
        return render(request, "audit/case.html#match_status", context)
    messages.info(request, "Re-run queued: the match is redone in the background.")
    return redirect(_case_url(request, pk))


def _case_url(request, pk: int) -> str:
    query = _queue_query(request.GET)
    return reverse("audit:case", args=[pk]) + (f"?{query}" if query else "")
