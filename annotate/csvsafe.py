"""One rule for every CSV the app writes: no cell can start a spreadsheet formula.

A cell that begins with =, +, -, @, a tab or a carriage return is run as a formula (or can be
turned into one) by Excel, LibreOffice and Google Sheets; a leading apostrophe makes it text.
metajudge's exports use this too (annotate is below metajudge in the layers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a spreadsheet will show it, never as a formula; None becomes ""."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable, **writer_options) -> str:
    """One CSV line of safe cells."""
    buffer = io.StringIO()
    csv.writer(buffer, **writer_options).writerow([safe_cell(v) for v in values])
    return buffer.getvalue()
