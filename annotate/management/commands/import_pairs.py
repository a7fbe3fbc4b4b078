import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from annotate.services.imports import import_pairs


class Command(BaseCommand):
    # The system checks load every URL and view (about half a second): `manage.py check`,
    # runserver and migrate run them; a data command does not need them on each call.
    requires_system_checks: list[str] = []
    help = "Import RationaleRM, HelpSteer3 or R-Align JSONL into a dataset (format detected)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSONL file, or - for standard input")
        parser.add_argument("--dataset", required=True)
        parser.add_argument(
            "--strict", action="store_true", help="one bad line rejects the whole file"
        )

    def handle(self, *args, path, dataset, strict, **options):
        show = sys.stderr.isatty()

        def progress(lines: int) -> None:
            if show:
                sys.stderr.write(f"\r{lines:,} lines read")
                sys.stderr.flush()

        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot open {path}: {exc.strerror}") from None
        with stream:
            try:
                report = import_pairs(
                    stream=stream, dataset_name=dataset, strict=strict, progress=progress
                )
            except DatabaseError as exc:
                raise CommandError(
                    f"database error during the import ({exc.__class__.__name__}: "
                    f"{str(exc).strip()[:200]}); the import is one transaction, so nothing "
                    "was written. Run it again when the database is back."
                ) from None
        if show:
            sys.stderr.write("\n")
        for line_no, reason in report.rejected:
            self.stderr.write(f"line {line_no}: {reason}")
        if report.rejected_count > len(report.rejected):
            self.stderr.write(f"... and {report.rejected_count - len(report.rejected)} more")
        if not report.written:
            raise CommandError(
                f"strict import rejected: {report.rejected_count} bad line(s); nothing was written"
            )
        self.stdout.write(
            f"dataset {dataset}: {report.created} created, {report.duplicates} already present, "
            f"{report.rejected_count} rejected, critics: {', '.join(report.critics) or 'none'}"
        )
