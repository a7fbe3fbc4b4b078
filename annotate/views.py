from django.shortcuts import redirect, render

from annotate.selectors import datasets_with_counts


def home(request):
    return redirect("annotate:index")


def index(request):
    datasets = datasets_with_counts(request.user)
    return render(request, "annotate/index.html", {"datasets": datasets})
