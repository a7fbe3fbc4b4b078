from django.db import migrations, models


def blind_when_several_slots(apps, schema_editor):
    Dataset = apps.get_model("annotate", "Dataset")
    Dataset.objects.filter(checklists_per_pair__gt=1).update(blind_slots=True)
    Dataset.objects.filter(checklists_per_pair__lte=1).update(blind_slots=False)


class Migration(migrations.Migration):
    dependencies = [("annotate", "0003_dataset_roles")]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="blind_slots",
            field=models.BooleanField(
                blank=True,
                null=True,
                help_text="Independent slots: imported and other slots' atoms are not offered as "
                "suggestions. Blank: on when the dataset is created with more than one slot per "
                "pair.",
            ),
        ),
        migrations.RunPython(blind_when_several_slots, migrations.RunPython.noop),
    ]
