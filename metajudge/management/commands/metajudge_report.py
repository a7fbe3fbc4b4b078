import json

from django.core.management.base import BaseCommand, CommandError

from annotate.models import Dataset
from metajudge.selectors import critic_figures

COLUMNS = [
    ("critic", "Critic", 24),
    ("outcome_accuracy", "L-Acc", 7),
    ("rationale_consistency", "RC", 7),
    ("precision", "Prec", 7),
    ("recall", "Recall", 7),
    ("f1", "F1", 7),
    ("average_precision", "AP", 7),
    ("s_corr", "S-Corr", 7),
    ("valid_samples", "Valid", 6),
    ("error_samples", "Errors", 6),
    ("total_samples", "Total", 6),
]


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = "Per-critic MetaJudge figures for a dataset (latest run of each critic)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--critic", default="")
        parser.add_argument("--format", choices=["table", "json"], default="table")
        parser.add_argument(
            "--threshold",
            type=float,
            default=0.5,
            help="recall below this is 'misaligned' (atom-mode S-Corr)",
        )

    def handle(self, *args, dataset, critic, format, threshold, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(f"unknown dataset '{dataset}'")
        figures = critic_figures(found, critic=critic, threshold=threshold)
        if format == "json":
            self.stdout.write(json.dumps(figures, indent=2))
            return
        self.stdout.write(" ".join(f"{title:<{w}}" for _, title, w in COLUMNS))
        for row in figures:
            self.stdout.write(" ".join(_cell(row[k], w) for k, _, w in COLUMNS))
        for row in figures:
            how = "skipped without a call" if row["skip_unscorable"] else "asked, as the reference"
            self.stdout.write(
                f"{row['critic']}: run {row['run']} ({row['matcher']}, {row['judge_model']}"
                f"{', ' + row['template'] if row['template'] else ''}); samples with no or too "
                f"many model atoms: {how}"
            )


def _cell(value, width: int) -> str:
    if isinstance(value, float):
        return f"{value:<{width}.4f}"
    return f"{str(value)[:width]:<{width}}"
