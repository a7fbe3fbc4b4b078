from django.urls import path

from annotate import views

app_name = "annotate"
urlpatterns = [
    path("", views.index, name="index"),
]
