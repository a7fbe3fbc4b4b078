from django.core.management.base import BaseCommand

from metajudge.services.demo import DEMO_FILE, DEMO_USERS, demo_setup

__all__ = ["DEMO_FILE", "DEMO_USERS", "Command"]


class Command(BaseCommand):
    help = "Load the bundled demo dataset and create one demo user per role (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", default="demo")

    def handle(self, *args, dataset, **options):
        demo_setup(dataset_name=dataset, log=self.stdout.write)
