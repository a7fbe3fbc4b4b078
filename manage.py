#!/usr/bin/env python
import gc
import os
import sys

if __name__ == "__main__":
    # Fewer collections: with the default threshold (700) Django's start-up ran the collector
    # about 200 times and an import of 22,116 pairs about 350 more, some of them over every
    # object the imports made. Measured: `run_metajudge --sync` 0.13 s sooner, `import_pairs`
    # of 22,116 pairs 5% sooner, peak RSS unchanged.
    gc.set_threshold(100_000, 50, 50)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from config.runtime import ensure_dirs

    try:
        ensure_dirs()  # the SQLite and broker folders a command may write to
    except ImproperlyConfigured:
        pass  # the command itself reports it
    try:
        execute_from_command_line(sys.argv)
    finally:
        # The command is over. Freezing what is left keeps the interpreter's last collections
        # from walking every object the imports made (the openai SDK's types alone are about
        # 0.3 s of a command's exit); objects are still freed and exit handlers still run.
        gc.freeze()
