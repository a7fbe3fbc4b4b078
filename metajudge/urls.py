from django.urls import path

from metajudge import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_index, name="index"),
    path("cases/<int:pk>/", views.case, name="case"),
    path("cases/<int:pk>/verdict/", views.case_verdict, name="case-verdict"),
    path("cases/<int:pk>/rerun/", views.case_rerun, name="case-rerun"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/abort/", views.run_control, {"action": "abort"}, name="run-abort"),
    path("runs/<int:pk>/resume/", views.run_control, {"action": "resume"}, name="run-resume"),
    path("<str:name>/", views.dataset_dashboard, name="dashboard"),
    path("<str:name>/triage/", views.triage, name="triage"),
]
