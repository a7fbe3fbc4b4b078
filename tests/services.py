"""Real services the tests need. Under REQUIRE_SERVICES=1 (the README's test command) a missing
service fails the test instead of skipping it, so a suite can never pass by skipping."""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest


def require(condition: bool, what: str) -> None:
    if condition:
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
