"""Fixtures of the browser tests: the built book served on 127.0.0.1 and one headless Chromium.

The book is read from ``$TPNB_BOOK_HTML`` (default ``_build/html``: build it first with ``make book``;
``make test`` does). The pages checked are those of the ``_toc.yml`` of the book that was built (two
folders above the HTML, when it is there; else this repository's). Chromium and its driver are Debian's
(``apt-get install chromium chromium-driver``), or ``$CHROMIUM`` and ``$CHROMEDRIVER``. The browser may
reach nothing but the local server: every other host name is made unresolvable, so a page that needs a
CDN (MathJax, fonts) fails here as it would for a reader offline.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK_HTML = Path(os.environ.get("TPNB_BOOK_HTML", ROOT / "_build" / "html")).resolve()
BOOK_ROOT = BOOK_HTML.parents[1] if (BOOK_HTML.parents[1] / "_toc.yml").is_file() else ROOT


def toc_pages() -> list[str]:
    """The root page and every file of the table of contents, e.g. 'book/intro'."""
    toc = yaml.safe_load((BOOK_ROOT / "_toc.yml").read_text())

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                yield entry["file"]
            yield from walk(entry.get("parts", []) + entry.get("chapters", []) + entry.get("sections", []))

    return [toc["root"], *walk(toc.get("parts", []) + toc.get("chapters", []))]


def pytest_generate_tests(metafunc):
    if "page" in metafunc.fixturenames:
        metafunc.parametrize("page", toc_pages())


def _executable(env: str, *names: str) -> str:
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/lib/chromium")
        if found:
            return found
    pytest.fail(f"{names[0]} not found: apt-get install chromium chromium-driver (or set ${env})")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def book_root() -> Path:
    """The folder of the built book's sources (_toc.yml, book/)."""
    return BOOK_ROOT


@pytest.fixture(scope="session")
def book_html() -> Path:
    if not (BOOK_HTML / "index.html").is_file():
        pytest.fail(f"no built book in {BOOK_HTML}: run `make book` first (or set TPNB_BOOK_HTML)")
    return BOOK_HTML


@pytest.fixture(scope="session")
def book_url(book_html):
    """Base URL (ending in /) of a local HTTP server serving the built book."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _executable("CHROMIUM", "chromium", "chromium-browser", "google-chrome")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1024", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit driver path: Selenium Manager (which would download a driver) never runs
    service = Service(executable_path=_executable("CHROMEDRIVER", "chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
