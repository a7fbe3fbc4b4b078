from django.contrib import admin

from annotate.models import Dataset, DatasetMembership


class MembershipInline(admin.TabularInline):
    """Members and their role in this dataset (a user may review one dataset, annotate another)."""

    model = DatasetMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "checklists_per_pair", "blind_slots", "created_at"]
    inlines = [MembershipInline]
