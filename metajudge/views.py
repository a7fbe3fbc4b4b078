from django.shortcuts import render

from annotate.selectors import datasets_with_counts


def audit_index(request):
    datasets = datasets_with_counts(request.user)
    return render(request, "audit/index.html", {"datasets": datasets})
