"""Browser-test fixtures: one real Streamlit server and one system Chromium per test session.

The server runs `streamlit run dashboard.py` on a free port against the session's demo public
file (tests/conftest.py `app_public_file`); each test gets a fresh browser context and page,
so tests share no cookies, Streamlit sessions or widget state.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
STARTUP_TIMEOUT_S = 60


@dataclass
class Server:
    """A running `streamlit run dashboard.py` and where its output goes."""

    url: str
    process: subprocess.Popen
    log: Path
    db: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError as exc:
            return f"(server log unreadable: {exc})"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # its own process group: start_new_session
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@contextmanager
def running_server(db: Path, log: Path) -> Iterator[Server]:
    """`streamlit run dashboard.py` on a free port with OUTCOMES_DB=db, until the block ends.

    Fails (never skips) with the server's output tail if it exits or is not healthy in time;
    at the end its whole process group is stopped."""
    port = _free_port()
    env = dict(os.environ, OUTCOMES_DB=str(db), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "streamlit", "run", "dashboard.py",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.headless", "true", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log, db=db)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(server.url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with code {process.returncode} before it was healthy.\n"
                            f"--- server output ---\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy at {server.url} after {STARTUP_TIMEOUT_S}s.\n"
                            f"--- server output ---\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def app_server(app_public_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real dashboard, shared by the browser tests, reading the demo public file."""
    with running_server(app_public_file, tmp_path_factory.mktemp("streamlit") / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """System Chromium (never a Playwright-downloaded one); a missing browser fails, never skips."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the browser tests need it. "
                    "Install it with `apt-get install -y chromium`.")
    try:
        browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    except Exception as exc:
        pytest.fail(f"Chromium at {CHROMIUM} failed to start ({exc}). "
                    "Reinstall it with `apt-get install -y chromium`.")
    yield browser
    browser.close()


class Pages:
    """Opens pages, each in its own browser context (own cookies, own Streamlit session),
    and keeps each page's uncaught JavaScript errors."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self._errors: dict[int, list[str]] = {}

    def new(self, viewport: dict[str, int] | None = None) -> Page:
        context = self.browser.new_context(viewport=viewport or {"width": 1400, "height": 1000},
                                           accept_downloads=True)
        context.set_default_timeout(30_000)
        self.contexts.append(context)
        page = context.new_page()
        errors = self._errors.setdefault(id(page), [])
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    def errors(self, page: Page) -> list[str]:
        return self._errors.get(id(page), [])

    def all_pages(self) -> list[Page]:
        return [page for context in self.contexts for page in context.pages]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, app_server: Server, request: pytest.FixtureRequest) -> Iterator[Pages]:
    """Fresh browser contexts for one test. On failure: a screenshot of each open page in
    test-artifacts/screenshots/FAILED-*.png and the server's output tail in the report."""
    opened = Pages(browser)
    yield opened
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(opened.all_pages()):
            try:
                page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{i}.png"), full_page=True)
            except Exception:  # a diagnostic only; never mask the test's own failure
                pass
        print(f"--- streamlit output tail ---\n{app_server.log_tail()}")
    opened.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
