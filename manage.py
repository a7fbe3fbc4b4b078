#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from config.runtime import ensure_dirs

    try:
        ensure_dirs()  # the SQLite and broker folders a command may write to
    except ImproperlyConfigured:
        pass  # the command itself reports it
    execute_from_command_line(sys.argv)
