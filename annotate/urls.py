from django.urls import path

from annotate import views, views_browse, views_history, views_imports, views_review

app_name = "annotate"
urlpatterns = [
    path("", views.index, name="index"),
    path("next/", views.claim_next, name="next"),
    path("browse/", views_browse.browse, name="browse"),
    path("pairs/<int:pair_id>/", views.pair_detail, name="pair"),
    path("pairs/<int:pair_id>/claim/", views.claim_pair, name="claim"),
    path("checklists/<int:checklist_id>/", views.checklist_detail, name="checklist"),
    path("checklists/<int:checklist_id>/save/", views.checklist_save_view, name="save"),
    path("checklists/<int:checklist_id>/submit/", views.checklist_submit_view, name="submit"),
    path("checklists/<int:checklist_id>/history/", views_history.checklist_history, name="history"),
    path("checklists/<int:checklist_id>/diff/", views_history.checklist_diff, name="diff"),
    path(
        "checklists/<int:checklist_id>/restore/",
        views_history.checklist_restore_view,
        name="restore",
    ),
    path(
        "checklists/<int:checklist_id>/review/", views_review.review_view, name="review_checklist"
    ),
    path(
        "checklists/<int:checklist_id>/suggestions/<int:suggestion_id>/",
        views.suggestion_view,
        name="suggestion",
    ),
    path("review/", views_review.review_queue, name="review"),
    path("agreement/", views_review.agreement, name="agreement"),
    path("imports/<int:job_id>/", views_imports.import_job, name="import"),
]
