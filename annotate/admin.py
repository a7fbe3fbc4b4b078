from django.contrib import admin

from annotate.models import Dataset


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "checklists_per_pair", "blind_slots", "created_at"]
    filter_horizontal = ["members"]
