from django.contrib.auth.decorators import login_not_required
from django.urls import path

from annotate import api as annotate_api
from annotate import api_checklist, api_imports
from config.api_token import TokenView
from metajudge import api_critics
from metajudge.audit import api as audit_api
from metajudge.launch import api as api_runs
from metajudge.reward import api as api_reward


def api(view):
    """DRF answers anonymous callers with 401 itself; no login redirect for the API."""
    return login_not_required(view.as_view())


urlpatterns = [
    path("", api(api_runs.ApiRoot), name="api-root"),
    path("token/", api(TokenView), name="api-token"),
    path("runs/", api(api_runs.RunList), name="api-runs"),
    path("runs/<str:run_id>/", api(api_runs.RunDetail), name="api-run"),
    path("critics/", api(api_critics.CriticList), name="api-critics"),
    path(
        "critics/<str:name>/judgments/",
        api(api_critics.CriticJudgmentList),
        name="api-critic-judgments",
    ),
    path(
        "critics/<str:name>/judgments/export/",
        api(api_critics.CriticJudgmentExport),
        name="api-critic-judgments-export",
    ),
    path(
        "pairs/<int:pair_id>/checklist/",
        api(api_checklist.PairChecklistView),
        name="api-pair-checklist",
    ),
    path("datasets/", api(annotate_api.DatasetList), name="api-datasets"),
    path("datasets/<str:name>/", api(annotate_api.DatasetDetail), name="api-dataset"),
    path("datasets/<str:name>/export/", api(annotate_api.ExportView), name="api-export"),
    path("datasets/<str:name>/import/", api(api_imports.ImportView), name="api-import"),
    path("imports/<int:job_id>/", api(api_imports.ImportJobDetail), name="api-import-job"),
    path("pairs/", api(annotate_api.PairList), name="api-pairs"),
    path("pairs/<int:pair_id>/", api(annotate_api.PairDetail), name="api-pair"),
    path("reward", api(api_reward.RewardView), name="api-reward"),
    path("datasets/<str:name>/figures/", api(audit_api.FiguresView), name="api-figures"),
    path("datasets/<str:name>/audit/", api(audit_api.AuditResultList), name="api-audit"),
    path(
        "datasets/<str:name>/audit/export/", api(audit_api.AuditExportView), name="api-audit-export"
    ),
]
