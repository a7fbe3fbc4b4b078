from django.urls import path

from metajudge.audit import views
from metajudge.launch import views as views_runs

app_name = "audit"
urlpatterns = [
    path("", views.audit_index, name="index"),
    path("cases/<int:pk>/", views.case, name="case"),
    path("cases/<int:pk>/verdict/", views.case_verdict, name="case-verdict"),
    path("cases/<int:pk>/rerun/", views.case_rerun, name="case-rerun"),
    path("runs/<int:pk>/", views_runs.run_detail, name="run"),
    path("runs/<int:pk>/abort/", views_runs.run_control, {"action": "abort"}, name="run-abort"),
    path("runs/<int:pk>/resume/", views_runs.run_control, {"action": "resume"}, name="run-resume"),
    path("genrm-runs/<int:pk>/", views_runs.genrm_run_detail, name="genrm-run"),
    path(
        "genrm-runs/<int:pk>/abort/",
        views_runs.genrm_run_control,
        {"action": "abort"},
        name="genrm-run-abort",
    ),
    path(
        "genrm-runs/<int:pk>/resume/",
        views_runs.genrm_run_control,
        {"action": "resume"},
        name="genrm-run-resume",
    ),
    path("<str:name>/", views.dataset_dashboard, name="dashboard"),
    path("<str:name>/triage/", views.triage, name="triage"),
    path("<str:name>/runs/", views_runs.runs_page, name="runs"),
    path("<str:name>/runs/start/", views_runs.runs_start, name="runs-start"),
]
