from django.contrib import admin

from annotate.models import Dataset, DatasetMembership, ImportJob


class MembershipInline(admin.TabularInline):
    """Members and their role in this dataset (a user may review one dataset, annotate another)."""

    model = DatasetMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "checklists_per_pair", "blind_slots", "created_at"]
    inlines = [MembershipInline]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "dataset_name", "file_name", "state", "lines", "created", "created_at"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
