"""Browser tests: Debian's Chromium driven by Selenium against pytest-django's live server.

Nothing is downloaded: the browser and the driver are the system's (`apt-get install chromium
chromium-driver`), the driver path is passed explicitly and Selenium Manager is switched off
(`SE_OFFLINE`). Where they are missing, the tests are deselected with a clear notice on a
laptop, and fail in CI (`CI` set), so CI never passes without running them.
On a failure the page is saved as a screenshot under `.browser-failures/` (gitignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FAILURE_DIR = Path(__file__).resolve().parents[2] / ".browser-failures"
HERE = Path(__file__).resolve().parent


def browser_available() -> bool:
    return all(Path(p).is_file() and os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER))


def pytest_collection_modifyitems(config, items):
    if browser_available() or os.environ.get("CI"):
        return  # in CI a missing browser fails the `driver` fixture instead
    browser_items = [item for item in items if HERE in Path(str(item.fspath)).parents]
    if not browser_items:
        return
    config.hook.pytest_deselected(items=browser_items)
    items[:] = [item for item in items if item not in browser_items]
    config._browser_notice = (
        f"{len(browser_items)} browser tests deselected: {CHROMIUM} or {CHROMEDRIVER} is "
        "missing (apt-get install chromium chromium-driver; CI installs them and never skips)"
    )


def pytest_terminal_summary(terminalreporter, config):
    notice = getattr(config, "_browser_notice", None)
    if notice:
        terminalreporter.write_line(notice, yellow=True, bold=True)


@pytest.fixture(scope="session")
def driver():
    if not browser_available():
        pytest.fail(f"Chromium or chromedriver missing ({CHROMIUM}, {CHROMEDRIVER})")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--lang=en-GB"):  # fmt: skip
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.implicitly_wait(0)
    yield browser
    browser.quit()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    browser = item.funcargs.get("driver")
    if browser is None:
        return
    FAILURE_DIR.mkdir(exist_ok=True)
    path = FAILURE_DIR / f"{item.name}.png"
    try:
        browser.save_screenshot(str(path))
        (FAILURE_DIR / f"{item.name}.html").write_text(browser.page_source)
    except Exception as exc:
        report.sections.append(("browser", f"screenshot failed: {exc}"))
        return
    report.sections.append(("browser", f"screenshot of the failing page: {path}"))
