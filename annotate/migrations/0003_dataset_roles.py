"""Roles move from global groups to dataset memberships.

The plain many-to-many table becomes the DatasetMembership model (same table, no copy), gains
a role, and each membership takes the role its user's global group gave: a member of the
"reviewer" group reviews each of their datasets, everyone else annotates."""

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


def copy_group_roles(apps, schema_editor):
    Membership = apps.get_model("annotate", "DatasetMembership")
    Group = apps.get_model("auth", "Group")
    reviewers = Group.objects.filter(name="reviewer").values_list("user", flat=True)
    Membership.objects.filter(user_id__in=reviewers).update(role="reviewer")


def back_to_groups(apps, schema_editor):
    pass  # the groups were never removed: going back loses nothing


class Migration(migrations.Migration):
    dependencies = [
        ("annotate", "0002_workspace"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DatasetMembership",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("dataset", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="annotate.dataset")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "annotate_dataset_members", "unique_together": {("dataset", "user")}},
                ),
                migrations.AlterField(
                    model_name="dataset",
                    name="members",
                    field=models.ManyToManyField(blank=True, related_name="datasets", through="annotate.DatasetMembership", to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="datasetmembership",
            name="role",
            field=models.CharField(choices=[("annotator", "Annotator"), ("reviewer", "Reviewer")], default="annotator", max_length=20),
        ),
        migrations.RunPython(copy_group_roles, back_to_groups),
    ]
