"""The runs page of a dataset: start any kind of run (with its cost shown first), watch it live,
abort and resume it. Each view: access check, form, one service call, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from metajudge.access import get_audit_dataset, get_genrm_run, get_run
from metajudge.generation import genrm as genrm_services
from metajudge.launch.forms import RunLaunchForm
from metajudge.launch.selectors import (
    OPEN,
    dataset_runs,
    launch_choices,
    launch_estimate,
    run_report,
)
from metajudge.launch.services import run_launch
from metajudge.models import MatchRun
from metajudge.runs import match_runs as run_services


def _list_context(dataset) -> dict:
    runs = dataset_runs(dataset)
    return {"dataset": dataset, "runs": runs, "any_open": any(r.state in OPEN for r in runs)}


def _page_context(dataset, form) -> dict:
    return {"form": form, **_list_context(dataset), **launch_choices(dataset)}


def runs_page(request, name: str):
    dataset = get_audit_dataset(request.user, name)
    if request.htmx and request.htmx.target == "estimate":
        return render(request, "audit/runs.html#estimate", _estimate(dataset, request.GET))
    if request.htmx and request.htmx.target == "run-list":
        return render(
            request, "audit/runs.html#run_list", {"dataset": dataset, "runs": dataset_runs(dataset)}
        )
    return render(request, "audit/runs.html", _page_context(dataset, RunLaunchForm()))


def _estimate(dataset, data) -> dict:
    form = RunLaunchForm(data)
    if not form.is_valid():
        return {"estimate_errors": form.errors}
    launch = form.launch(dataset)
    try:
        launch.clean()
    except ValidationError as exc:
        return {"estimate_errors": exc.message_dict}
    return {"estimate": launch_estimate(launch), "launch": launch}


@require_POST
def runs_start(request, name: str):
    dataset = get_audit_dataset(request.user, name)
    form = RunLaunchForm(request.POST)
    if form.is_valid():
        try:
            run = run_launch(launch=form.launch(dataset), user=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Run started.")
            return redirect(_run_url(run))
    return render(request, "audit/runs.html", _page_context(dataset, form), status=400)


def _run_url(run) -> str:
    if isinstance(run, MatchRun):
        return reverse("audit:run", args=[run.pk])
    return reverse("audit:genrm-run", args=[run.pk])


def genrm_run_detail(request, pk: int):
    run = get_genrm_run(request.user, pk)
    name = "audit/run.html#progress" if request.htmx else "audit/run.html"
    return render(request, name, run_report(run))


@require_POST
def genrm_run_control(request, pk: int, action: str):
    run = get_genrm_run(request.user, pk)
    if action == "abort":
        run = genrm_services.genrm_run_abort(run=run)
    else:
        run = genrm_services.genrm_run_resume(run=run)
    if request.htmx:
        return render(request, "audit/run.html#progress", run_report(run))
    return redirect("audit:genrm-run", pk=run.pk)


def run_detail(request, pk: int):
    run = get_run(request.user, pk)
    name = "audit/run.html#progress" if request.htmx else "audit/run.html"
    return render(request, name, run_report(run))


@require_POST
def run_control(request, pk: int, action: str):
    run = get_run(request.user, pk)
    run = run_services.run_abort(run=run) if action == "abort" else run_services.run_resume(run=run)
    if request.htmx:
        return render(request, "audit/run.html#progress", run_report(run))
    return redirect("audit:run", pk=run.pk)
