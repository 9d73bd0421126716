"""The documentation stays true: the guides' code runs, the API reference lists every public
name, every example in a docstring runs as a doctest, and the built site opens in a real
headless browser with no broken internal link."""

from __future__ import annotations

import doctest
import functools
import html.parser
import http.server
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import threading
import types
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([DOCS / "getting-started.md", *(DOCS / "guide").glob("*.md")])
SITE = DOCS / "_build" / "html"


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_the_guides_code_runs(page, tmp_path, monkeypatch):
    """Every python block of a page, in order, in one namespace (a reader copying them)."""
    blocks = python_blocks(page)
    assert blocks, f"{page.name} shows no code"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)
    checks = {
        "getting-started": lambda ns: len(ns["rules"]) > 0 and ns["clv"]["clv"].gt(0).any(),
        "recommenders": lambda ns: all(len(v) == 5 for v in ns["lists"].values()),
        "evaluation": lambda ns: _mean_ndcg(ns, "ease") > _mean_ndcg(ns, "popular"),
        "mining": lambda ns: len(ns["rules"].frame) > 0 and len(ns["next_steps"].frame) > 0,
        "customer-value": lambda ns: ns["alive"].min() >= 0 and ns["alive"].max() <= 1,
        "churn": lambda ns: ns["risk"].between(0, 1).all() and len(ns["at_risk"]) == 10,
        "customer-360": lambda ns: int(ns["store"].sql(
            "SELECT count(*) AS n FROM orders WHERE customer_id = 7")["n"][0]) == 0,
        "production": lambda ns: len(ns["page"]) == 10 and ns["recs"].count() == 10,
    }  # fmt: skip
    check = checks.get(page.stem)
    assert check is None or check(namespace), f"{page.name}: its example shows the wrong thing"


def _mean_ndcg(namespace: dict, model: str) -> float:
    summary = namespace["result"].summary.set_index(["model", "metric"])
    return summary.loc[(model, "ndcg"), "mean"]


# -- the API reference ---------------------------------------------------------------------------
@functools.cache
def _reference_writer() -> types.ModuleType:
    """docs/api/_write_pages.py, which lists the reference's modules and public names."""
    spec = importlib.util.spec_from_file_location("write_pages", DOCS / "api" / "_write_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_api_reference_lists_every_public_name():
    writer = _reference_writer()
    for module in writer.MODULES:
        page = (DOCS / "api" / f"{module}.rst").read_text()
        listed = re.findall(r"^   (\w+)$", page, re.M)
        assert listed == writer.public_names(module), (
            f"docs/api/{module}.rst is out of date: run python docs/api/_write_pages.py"
        )


def public_objects() -> list[tuple[str, object, str]]:
    """Every public class and function of the reference: (full name, object, module)."""
    writer = _reference_writer()
    found, seen = [], set()
    for module in writer.MODULES:
        for name in writer.public_names(module):
            obj = getattr(importlib.import_module(module), name)
            if id(obj) in seen or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            seen.add(id(obj))
            found.append((f"{module}.{name}", obj, module))
    return found


EXCEPTIONS_MODULE = "reco.exceptions"  # classes whose whole story is their name and message


def test_every_public_name_has_a_documented_example():
    without = [
        name
        for name, obj, module in public_objects()
        if module != EXCEPTIONS_MODULE and ">>>" not in (inspect.getdoc(obj) or "")
    ]
    assert not without, f"public names without an example: {without}"


def _doctests() -> list[doctest.DocTest]:
    """The examples of every public object and of its methods, each run in the namespace of
    the module that exports it (as a reader would after ``from reco.x import *``)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for name, obj, module in public_objects():
        namespace = dict(vars(importlib.import_module(module)))
        for test in finder.find(obj, name, globs=namespace):
            if test.examples:
                tests.append(test)
    return tests


DOCTESTS = _doctests()


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples_run(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    output: list[str] = []
    try:
        runner.run(test, out=output.append)
    finally:
        if "matplotlib.pyplot" in sys.modules:  # the plotting examples' figures
            sys.modules["matplotlib.pyplot"].close("all")
    assert runner.failures == 0, "".join(output)


# -- the built site in a browser -----------------------------------------------------------------
class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if (tag, key) in {("a", "href"), ("link", "href"), ("script", "src"), ("img", "src")}:
                self.links.append(value or "")


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _needs(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} on CI (.ci/run builds the site and installs Chromium)")
        pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site without logging each request."""

    def log_message(self, *args) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    """A browser that closes a connection it no longer needs is not an error."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def site_url():
    _needs((SITE / "index.html").is_file(), "the site is not built (sphinx-build docs)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _rendered(url: str) -> str:
    """The page's DOM after Chromium has loaded and run it (headless)."""
    browser = _browser()
    _needs(browser is not None, "no Chromium (apt-get install chromium)")
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


@pytest.mark.parametrize("page", ["index.html", "api/generated/reco.models.ALS.html"])
def test_site_pages_load_in_a_browser_with_no_broken_internal_link(site_url, page):
    dom = _rendered(site_url + page)
    assert "<title>" in dom and "reco" in dom
    if page.startswith("api/"):
        assert "recommend_for_items" in dom and "Parameters" in dom
        if (DOCS / "_static" / "mathjax").is_dir():  # formulas typeset (offline MathJax)
            assert "mjx-container" in dom
    parser = _Links()
    parser.feed(dom)
    internal = {
        urllib.parse.urljoin(site_url + page, link).split("#")[0]
        for link in parser.links
        if link and not urllib.parse.urlparse(link).scheme and not link.startswith("#")
    }
    assert len(internal) > 10
    broken = []
    for url in sorted(internal):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                ok = response.status == 200
        except OSError:
            ok = False
        if not ok:
            broken.append(url)
    assert not broken, f"broken links on {page}: {broken}"
