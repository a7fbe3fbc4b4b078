"""Real headless Chromium (Debian's package) driven by Playwright against the live server."""

import os
from pathlib import Path

import pytest

from tests.services import chromium_path, require

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    require(path is not None, "Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Runs before any page script and is not subject to the page's CSP: every violation the CSP
# blocks (an inline script, a style attribute, an eval) is reported to the console.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(
    `CSP violation: ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`
    + ` (${e.sample}) on ${document.location.pathname}`
  );
});
"""


def _is_csp_violation(text: str) -> bool:
    return "CSP violation" in text or "Content Security Policy" in text


@pytest.fixture
def csp_violations():
    """Every CSP violation any page of the test logged: the test fails if there is one."""
    found: list[str] = []
    yield found
    assert not found, f"CSP violations in the browser console: {found}"


@pytest.fixture
def login(browser, live_server, csp_violations):
    """login(username, password) -> a logged-in page in a fresh browser context."""
    contexts = []

    def _watch(page):
        page.on(
            "console",
            lambda msg: _is_csp_violation(msg.text) and csp_violations.append(msg.text),
        )

    def _login(username: str, password: str):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("page", _watch)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        return page

    yield _login
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    """shot(page, name): save a full-page screenshot under tests/screenshots/ for people."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
