"""deploy/Caddyfile in front of the real dashboard: what a visitor's browser gets through
the proxy (security headers, no public metrics, cached static files) and that the app
works through it (its websocket included). Caddy must be installed (`apt-get install -y
caddy`); the test fails, never skips, without it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import REPO_ROOT, Pages, Server, _free_port, _stop
from tests.e2e.test_browser import assert_no_exception, open_page, view_when


@pytest.fixture(scope="module")
def proxy(app_server: Server, tmp_path_factory) -> Server:
    caddy = shutil.which("caddy")
    if not caddy:
        pytest.fail("caddy not found: the proxy test needs it. Install it with `apt-get install -y caddy`.")
    home = tmp_path_factory.mktemp("caddy")
    port = _free_port()
    env = dict(os.environ, SITE_ADDRESS=f"http://127.0.0.1:{port}",
               APP_UPSTREAMS=urlsplit(app_server.url).netloc,
               CADDY_ADMIN=f"127.0.0.1:{_free_port()}", XDG_DATA_HOME=str(home),
               XDG_CONFIG_HOME=str(home), HOME=str(home))
    log = home / "caddy.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([caddy, "run", "--config", str(REPO_ROOT / "deploy" / "Caddyfile"),
                                    "--adapter", "caddyfile"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log, db=app_server.db)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"caddy did not serve the app:\n{server.log_tail()}")
        time.sleep(0.25)
    yield server
    _stop(process)


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_the_proxy_sets_security_headers_and_hides_metrics(proxy: Server, app_server: Server) -> None:
    status, headers, body = get(proxy.url + "/")
    assert status == 200
    assert headers.get("x-frame-options") == "DENY"
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", "")
    assert headers.get("x-content-type-options") == "nosniff"
    assert "server" not in headers
    assert get(app_server.url + "/_stcore/metrics")[0] == 200  # what the proxy must hide
    assert get(proxy.url + "/_stcore/metrics")[0] == 404
    script = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', body)
    assert script, "no script in the page"
    status, headers, _ = get(f"{proxy.url}/{script.group(1).decode()}")
    assert status == 200 and "immutable" in headers.get("cache-control", ""), headers


def test_the_app_works_through_the_proxy(pages: Pages, proxy: Server) -> None:
    page = pages.new()
    open_page(page, proxy, "map", "district=5")
    assert_no_exception(page)
    view = view_when(page, lambda v: bool(v["metrics"]) and "Council District 5" in v["subheaders"])
    assert view["metrics"] and "Council District 5" in view["subheaders"], view
