#!/usr/bin/env python
import gc
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
    try:
        execute_from_command_line(sys.argv)
    finally:
        # The command is over. Freezing what is left keeps the interpreter's last collections
        # from walking every object the imports made (the openai SDK's types alone are about
        # 0.3 s of a command's exit); objects are still freed and exit handlers still run.
        gc.freeze()
