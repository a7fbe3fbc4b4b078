"""Which environment variables may hold a judge's API key, and redaction of key values.

An endpoint names the variable that holds its key; the key's value is then sent as a bearer
token to the endpoint's URL. So only names that the allow-list matches may be used (never the
app's own secrets), and every value that could be a key is cut out of errors, logs and pages,
by value, whatever text carries it. No Django here: this sits in the llm layer.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re

DEFAULT_ALLOWED = ("*_API_KEY", "OPENAI_API_KEY")
# The app's own secrets: never a judge key, whatever the allow-list says.
NEVER = frozenset({"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MIN_SECRET_LEN = 8  # shorter values would blank out ordinary words
MASK = "***"

_configured: set[str] = set()


def refusal(name: str, allowed=DEFAULT_ALLOWED) -> str | None:
    """Why `name` may not hold a judge key, or None when it may."""
    if not _NAME.match(name or ""):
        return "Give the name of an environment variable, e.g. OPENAI_API_KEY."
    if name.upper() in NEVER or not any(fnmatch.fnmatchcase(name, p) for p in allowed):
        patterns = ", ".join(allowed) or "nothing"
        return f"{name} may not hold a judge API key (JUDGE_API_KEY_ENV_ALLOWED: {patterns})."
    return None


def register(name: str) -> None:
    """Remember a variable that an endpoint uses, so its value is redacted from now on."""
    _configured.add(name)


def _secret_values() -> list[str]:
    values = set()
    for name, value in os.environ.items():
        if len(value) < MIN_SECRET_LEN:
            continue
        if name in _configured or name in NEVER or name.endswith(("_API_KEY", "_KEY", "_TOKEN")):
            values.add(value)
    return sorted(values, key=len, reverse=True)  # longest first: no half-masked overlaps


def redact(text: str) -> str:
    """The text with every configured key's value replaced by ***."""
    for value in _secret_values():
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactKeysFilter(logging.Filter):
    """A logging filter: the message, its arguments and any traceback lose every key value."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
