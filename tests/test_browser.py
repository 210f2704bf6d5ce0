"""The built site in a real browser, offline: Debian's headless Chromium loads the pages from
disk with the network cut off, and the test reads the DOM after the scripts ran.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
messages on file descriptors 3 and 4), so no port is opened and nothing beyond the standard
library is needed. The network is cut twice over: every host name resolves to nothing
(``--host-resolver-rules``) and every request that is not a file goes to a closed local proxy
port; the test proves it by failing to load a CDN address, and records every request the pages
make, which must all be files of the site.

Checked: the catalogue's formulas are typeset (MathJax from the site itself), every image of
the index and the catalogue loads, the index's links open pages on disk, and the API pages show
their examples as code blocks. Material's search is the one part that cannot work from
file:// (its worker needs a server), so its failed index request is not counted.

The site is built into a temporary folder, or taken from ``LRKIT_SITE_DIR`` (``make test``
builds ``site/`` with ``mkdocs build --strict`` first). Screenshots of three pages are kept in
``tests/artifacts/`` (git-ignored). Skipped, with the reason, where ``chromium`` is missing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
API_PAGES = sorted(p.stem for p in (ROOT / "docs" / "api").glob("*.md"))
TIMEOUT_S = 60.0
MATH_WAIT_MS = 15_000


class Chromium:
    """Headless Chromium and one page, driven over the DevTools protocol on a pipe."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()

        # The protocol's pipes must be fds 3 (in) and 4 (out) in Chromium: bash moves them
        # there (dash reads one-digit fds only; no preexec_fn: this process may have threads).
        wire = f'exec "$0" "$@" 3<&{to_child} 4>&{from_child}'
        self.process = subprocess.Popen(
            [
                "bash",
                "-c",
                wire,
                executable,
                "--headless",
                "--no-sandbox",  # tests run as root (CI); the sandbox refuses root
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND",  # no host name resolves
                "--proxy-server=http://127.0.0.1:9",  # nothing listens there
                "--proxy-bypass-list=<-loopback>",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_child, from_child),
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.loader: str | None = None
        self.events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable", session=True)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited (status {self.process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            request["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def wait_for_load(self, loader: str) -> None:
        """Wait for the load event of the document that navigation ``loader`` brought."""
        deadline = time.monotonic() + TIMEOUT_S
        seen = 0
        navigated = False
        while True:
            for event in self.events[seen:]:
                method, params = event.get("method"), event.get("params", {})
                if method == "Page.frameNavigated" and params["frame"].get("loaderId") == loader:
                    navigated = True
                elif method == "Page.loadEventFired" and navigated:
                    return
            seen = len(self.events)
            self.events.append(self._message(deadline))

    def open(self, url: str) -> str:
        """Load ``url`` and wait for its load event; the navigation's error text, if any."""
        self.events.clear()
        result = self.send("Page.navigate", session=True, url=url)
        self.loader = result.get("loaderId")
        if result.get("errorText"):
            return str(result["errorText"])
        self.wait_for_load(result["loaderId"])
        return ""

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} raised: {result['exceptionDetails']}")
        return result["result"].get("value")

    def requests(self) -> dict[str, str]:
        """Request id -> URL, for every request of the page last opened (itself and its parts)."""
        return {
            e["params"]["requestId"]: e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
            and e["params"].get("loaderId") == self.loader
        }

    def failed_urls(self) -> list[str]:
        requests = self.requests()
        return [
            requests[e["params"]["requestId"]]
            for e in self.events
            if e.get("method") == "Network.loadingFailed" and e["params"]["requestId"] in requests
        ]

    def screenshot(self, path: Path, scroll_to: str = "") -> None:
        """A PNG of the viewport, scrolled first to the element ``scroll_to`` (a JS expression)."""
        if scroll_to:
            self.evaluate(f"({scroll_to}).scrollIntoView({{block: 'center'}})")
        data = self.send("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):  # it may exit first
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("LRKIT_SITE_DIR")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").is_file(), f"LRKIT_SITE_DIR={given} holds no built site"
        return path
    pytest.importorskip("mkdocs")
    path = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(path)],
        cwd=ROOT,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's `chromium` is not installed (`make` installs it when run as root)")
    chromium = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def page_url(site: Path, page: str) -> str:
    return (site / f"{page or 'index'}.html").as_uri()


def load(browser: Chromium, site: Path, page: str) -> None:
    """Open a page of the site, wait for MathJax where the page has math, check it stayed local."""
    assert browser.open(page_url(site, page)) == ""
    name = page or "index"
    # The page typesets by itself; give it up to MATH_WAIT_MS to finish (never typeset here).
    browser.evaluate(
        """new Promise(done => {
          const start = Date.now();
          (function check() {
            const math = [...document.querySelectorAll('.arithmatex')];
            const loaded = window.MathJax && MathJax.startup;  // not just our config object
            if (!loaded || math.every(m => m.querySelector('mjx-container svg'))
                || Date.now() - start > MATH_WAIT_MS) done(true);
            else setTimeout(check, 50);
          })();
        })""".replace("MATH_WAIT_MS", str(MATH_WAIT_MS))
    )
    off_site = [u for u in browser.requests().values() if not u.startswith(("file:", "data:"))]
    assert off_site == [], f"{name} asked the network for {off_site}"
    # Material's search reads its index with a request that file:// pages may not make.
    failed = [u for u in browser.failed_urls() if not u.endswith("search/search_index.js")]
    assert failed == [], f"{name}: could not load {failed}"
    errors = [
        e["params"]["exceptionDetails"].get("text", "")
        + " "
        + e["params"]["exceptionDetails"].get("exception", {}).get("description", "")
        for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
    ]
    errors = [e for e in errors if "search/search_index.js" not in e]
    assert errors == [], f"{name}: uncaught script errors {errors}"


def test_the_network_is_cut_off(browser: Chromium) -> None:
    # Refused by the browser's own settings (the dead proxy), whatever this machine can reach.
    for url in ("https://unpkg.com/mathjax@3/es5/tex-svg.js", "http://93.184.215.14/"):
        assert browser.open(url) == "net::ERR_PROXY_CONNECTION_FAILED", url


def test_catalogue_formulas_are_typeset(browser: Chromium, site: Path) -> None:
    load(browser, site, "gallery")
    counts = browser.evaluate(
        """(() => {
          const math = [...document.querySelectorAll('.arithmatex')];
          return {
            math: math.length,
            typeset: math.filter(m => m.querySelector('mjx-container svg')).length,
            errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
            raw: ['\\\\(', '\\\\[', '$$'].filter(s => document.body.innerText.includes(s)),
          };
        })()"""
    )
    assert counts["math"] >= 20, counts
    assert counts["typeset"] == counts["math"], counts
    assert counts["errors"] == 0, counts
    assert counts["raw"] == [], counts
    browser.screenshot(_artifact("catalogue.png"), "document.getElementById('one_cycle_policy')")


@pytest.mark.parametrize("page", ["", "gallery"], ids=["index", "catalogue"])
def test_every_image_loads(browser: Chromium, site: Path, page: str) -> None:
    load(browser, site, page)
    images = browser.evaluate(
        "[...document.images].map(i => ({src: i.getAttribute('src'), loaded: i.complete"
        " && i.naturalWidth > 0}))"
    )
    assert images, f"{page or 'index'} has no image"
    assert [i["src"] for i in images if not i["loaded"]] == []
    if page == "":
        browser.screenshot(_artifact("index.png"))


def test_links_open_pages_on_disk(browser: Chromium, site: Path) -> None:
    load(browser, site, "")
    links = browser.evaluate(
        "[...document.querySelectorAll('a[href]')].map(a => a.href)"
        ".filter(h => h.startsWith('file:')).map(h => h.split('#')[0])"
    )
    pages = {Path(unquote(urlsplit(link).path)) for link in links}
    assert len(pages) >= 20  # the whole navigation
    assert sorted(str(p) for p in pages if not p.is_file()) == []


@pytest.mark.parametrize("page", API_PAGES)
def test_api_examples_are_code_blocks(browser: Chromium, site: Path, page: str) -> None:
    load(browser, site, f"api/{page}")
    found = browser.evaluate(
        """(() => {
          const prompt = e => e.textContent.includes('>>> ');
          return {
            code: [...document.querySelectorAll('.doc-contents pre > code')].filter(prompt).length,
            quoted: [...document.querySelectorAll('blockquote')].filter(prompt).length,
            prose: [...document.querySelectorAll('.doc-contents p')].filter(prompt).length,
          };
        })()"""
    )
    assert found["code"] >= 1, found
    assert found["quoted"] == 0 and found["prose"] == 0, found
    if page == "core":  # its FunctionSchedule example was a blockquote three deep
        browser.screenshot(
            _artifact("api-core.png"), "document.getElementById('lrkit.FunctionSchedule')"
        )


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
