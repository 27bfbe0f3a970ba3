"""The built book as a reader sees it: every page of the table of contents opened in headless Chromium.

For each page: the math is typeset by MathJax (served from the book itself, nothing from the network), no
raw TeX delimiters are left in the text, every image has loaded and every figure is opaque, no output
shows a traceback or stderr, every ``{glue:text}`` role of the page's source became a value that fits
its format (a number for numeric formats), and the download button offers the page's source (.ipynb
for chapters).

Needs a built book (``make book``; ``$TPNB_BOOK_HTML`` points at another build) and Chromium with its
driver (see conftest.py). ``make test`` builds the book first and then runs these tests.
"""
from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import nbformat
import pytest

# Runs in the page once MathJax and the images are done; returns what the tests check.
_INSPECT = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const facts = {};
  const mj = window.MathJax;
  facts.mathjax_version = (mj && mj.version) || null;
  if (mj && mj.startup && mj.startup.promise) await mj.startup.promise;

  const images = Array.from(document.images);
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(resolve => {
    img.addEventListener("load", resolve); img.addEventListener("error", resolve);
  })));
  facts.images = images.map(img => {
    const fact = {src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth,
                  transparent: null};
    if (img.naturalWidth > 0 && new URL(fact.src).pathname.includes("/_images/")) {
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
      const context = canvas.getContext("2d");
      context.drawImage(img, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let transparent = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] < 255) transparent++;
      fact.transparent = transparent / (canvas.width * canvas.height);
    }
    return fact;
  });

  const mathNodes = Array.from(document.querySelectorAll(".math"));
  facts.math = mathNodes.length;
  facts.math_unrendered = mathNodes.filter(node => !node.querySelector("mjx-container"))
                                   .map(node => node.textContent.trim().slice(0, 80));
  facts.math_rendered = document.querySelectorAll("mjx-container").length;
  facts.math_errors = Array.from(document.querySelectorAll("mjx-merror"))
                           .map(node => node.getAttribute("data-mjx-error") || node.textContent);

  const article = document.querySelector("article") || document.body;
  facts.text = article.textContent;
  const prose = article.cloneNode(true);
  prose.querySelectorAll("pre, code, script, style, mjx-container").forEach(node => node.remove());
  facts.prose = prose.textContent;

  facts.error_outputs = Array.from(document.querySelectorAll(
      ".output.stderr, .output.traceback, .output.error, .stderr, .traceback, .system-message, .problematic"
  )).map(node => node.className + ": " + node.textContent.trim().slice(0, 200));
  facts.pasted = Array.from(document.querySelectorAll(".pasted-text")).map(node => node.textContent);
  facts.downloads = Array.from(document.querySelectorAll(".dropdown-download-buttons a"))
                         .map(link => ({href: link.href, text: link.textContent.trim()}));
  facts.resources = performance.getEntriesByType("resource")
                               .map(entry => ({url: entry.name, status: entry.responseStatus || 0}));
  done(facts);
})().catch(error => done({error: String(error)}));
"""


@pytest.fixture(scope="session")
def rendered(book_html, book_url, browser):
    """rendered(page) -> what _INSPECT found on that page (each page is loaded once)."""
    cache = {}

    def load(page: str) -> dict:
        if page not in cache:
            path = book_html / f"{page}.html"
            assert path.is_file(), f"{page}.html is not in the built book {book_html}"
            browser.get(book_url + f"{page}.html")
            facts = browser.execute_async_script(_INSPECT)
            assert "error" not in facts, f"{page}: {facts.get('error')}"
            # resources the browser failed to fetch (the themes' own console noise is not checked)
            facts["console"] = [entry["message"] for entry in browser.get_log("browser")
                                if entry["source"] == "network" and "favicon.ico" not in entry["message"]]
            cache[page] = facts
        return cache[page]

    return load


def _source(book_html: Path, book_root: Path, page: str) -> tuple[str, str]:
    """(suffix, markdown text) of the page's source as the build saw it (_sources), else the book's."""
    for suffix in (".ipynb", ".md"):
        for path in (book_html / "_sources" / f"{page}{suffix}", book_root / f"{page}{suffix}"):
            if path.is_file():
                if suffix == ".md":
                    return suffix, path.read_text()
                nb = nbformat.read(path, as_version=4)
                return suffix, "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    raise AssertionError(f"no source for {page}")


# the {glue} / {glue:text} roles (the book's only kind), which myst-nb renders as <span class="pasted-text">
_GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([^`]+)`")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def _matches_format(text: str, role: str) -> bool:
    """Whether ``text`` can be what myst-nb pastes for ``{glue:text}`role```: a number for numeric formats."""
    kind = role.rsplit(":", 1)[1][-1:] if ":" in role else ""
    if kind in ("d", "b", "o", "x", "X", "n"):
        return re.fullmatch(r"[-+]?[\d,_ ]+|[-+]?[0-9a-fA-F]+", text.strip()) is not None
    if kind in ("e", "E", "f", "F", "g", "G"):
        return re.fullmatch(_NUMBER, text.strip().replace(",", "")) is not None
    if kind == "%":
        return re.fullmatch(_NUMBER + "%", text.strip().replace(",", "")) is not None
    return text.strip() != ""


def test_math_is_typeset_by_mathjax_from_the_book_itself(rendered, book_html, book_root, page):
    facts = rendered(page)
    assert facts["mathjax_version"], f"{page}: MathJax did not load"
    assert facts["math_unrendered"] == [], f"{page}: math left as TeX: {facts['math_unrendered'][:5]}"
    assert facts["math_errors"] == [], f"{page}: MathJax errors: {facts['math_errors'][:5]}"
    suffix, source = _source(book_html, book_root, page)
    if "$" in source:
        assert facts["math"] > 0 and facts["math_rendered"] >= facts["math"], f"{page}: no typeset math"
    leftovers = [m.group() for m in re.finditer(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\s][^$\n]*\$",
                                                facts["prose"])]
    assert leftovers == [], f"{page}: raw TeX in the text: {leftovers[:5]}"


def test_nothing_is_loaded_from_outside_the_book(rendered, book_url, page):
    facts = rendered(page)
    outside = [r["url"] for r in facts["resources"] if not r["url"].startswith(book_url)]
    failed = [r["url"] for r in facts["resources"]
              if r["status"] >= 400 and not r["url"].endswith("favicon.ico")]
    assert outside == [] and failed == [], f"{page}: outside {outside[:5]}, failed {failed[:5]}"
    assert facts["console"] == [], f"{page}: failed fetches: {facts['console'][:5]}"


def test_every_image_loads_and_every_figure_is_opaque(rendered, page):
    facts = rendered(page)
    broken = [img["src"] for img in facts["images"] if not img["complete"] or img["width"] == 0]
    assert broken == [], f"{page}: images not loaded: {broken}"
    see_through = [(img["src"], img["transparent"]) for img in facts["images"] if img["transparent"]]
    assert see_through == [], f"{page}: figures with transparent pixels (fraction): {see_through}"


def test_no_output_shows_a_traceback_or_stderr(rendered, page):
    facts = rendered(page)
    assert "Traceback (most recent call last)" not in facts["text"], f"{page} shows a traceback"
    assert facts["error_outputs"] == [], f"{page}: error outputs: {facts['error_outputs'][:3]}"


def test_every_glued_value_is_pasted(rendered, book_html, book_root, page):
    facts = rendered(page)
    _, source = _source(book_html, book_root, page)
    roles = _GLUE_ROLE.findall(source)
    assert len(facts["pasted"]) == len(roles), (
        f"{page}: {len(roles)} glue roles in the source, {len(facts['pasted'])} pasted values")
    wrong = [(role, text) for role, text in zip(roles, facts["pasted"]) if not _matches_format(text, role)]
    assert wrong == [], f"{page}: pasted values that do not fit their format: {wrong[:5]}"
    leftovers = re.findall(r"\{glue[^}]*\}|glue:text", facts["prose"])
    assert leftovers == [], f"{page}: unresolved glue roles in the text: {leftovers[:5]}"


def test_download_button_offers_the_source(rendered, book_html, book_root, page):
    facts = rendered(page)
    suffix, _ = _source(book_html, book_root, page)
    links = [link for link in facts["downloads"] if link["href"].endswith(suffix)]
    assert links, f"{page}: no {suffix} download button (found {facts['downloads']})"
    with urllib.request.urlopen(links[0]["href"], timeout=30) as response:
        body = response.read()
    if suffix == ".ipynb":
        assert "cells" in json.loads(body), f"{page}: the downloaded .ipynb is not a notebook"
