"""The built book as a reader sees it: every page of the table of contents opened in headless Chromium.

For each page: the math is typeset by MathJax (served from the book itself, nothing from the network), no
raw TeX delimiters are left in the text, every image has loaded and every figure is opaque, no output
shows a traceback or stderr, every ``{glue:text}`` role of the page's source became a value that fits
its format (a number for numeric formats), and the download button offers the page's source (.ipynb
for chapters).

And what a reader sees of the code and results, at a 1280 x 1024 window: no visible code cell scrolls
sideways, every figure is shown at (nearly) its natural size so its fonts keep the size they were drawn at,
no output is a Python dict or list repr, every cell folded away by ``hide-input`` is on the page and opens
with a click, and the first screen shows prose before any code.

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


# Runs in the page after _INSPECT (images loaded); returns what a reader sees of code, figures and outputs.
_READER = r"""
const article = document.querySelector("article") || document.body;
// inside a closed <details> (a folded cell) a node keeps its layout box but is not drawn
const shown = node => node.getClientRects().length > 0 && !node.closest("details:not([open])");
const facts = {};
facts.code_overflow = Array.from(article.querySelectorAll(".cell_input pre, div.highlight pre"))
  .filter(shown).filter(pre => pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => ({width: pre.scrollWidth, shown: pre.clientWidth,
                line: pre.textContent.split("\n").reduce((a, b) => b.length > a.length ? b : a, "").slice(0, 120)}));
facts.figures = Array.from(article.querySelectorAll("img"))
  .filter(img => new URL(img.currentSrc || img.src).pathname.includes("/_images/") && img.naturalWidth > 0)
  .map(img => ({src: img.currentSrc || img.src, natural: img.naturalWidth, shown: img.getBoundingClientRect().width}));
facts.outputs = Array.from(article.querySelectorAll(".cell_output pre"))
  .filter(node => !node.closest(".cell_input")).map(node => node.textContent);
facts.folded = Array.from(article.querySelectorAll(".cell.tag_hide-input")).map(cell => {
  const details = cell.querySelector("details");
  if (!details) return {details: false};
  const pre = details.querySelector("pre");
  const closed = !details.open && !(pre && shown(pre));
  details.querySelector("summary").click();
  const opened = details.open && pre !== null && shown(pre) && pre.textContent.trim().length > 0;
  details.querySelector("summary").click();
  return {details: true, closed: closed, opened: opened};
});
const blocks = Array.from(article.querySelectorAll("p, .cell_input, div.highlight")).filter(shown);
const first_code = blocks.find(node => !node.matches("p"));
const first_prose = blocks.find(node => node.matches("p") && node.textContent.trim().length > 40);
window.scrollTo(0, 0);
facts.screen = window.innerHeight;
facts.first_prose_top = first_prose ? first_prose.getBoundingClientRect().top : null;
facts.first_code_top = first_code ? first_code.getBoundingClientRect().top : null;
return facts;
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
            facts["reader"] = browser.execute_script(_READER)
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


# Python containers printed as they are: "{'converged': 0, ...}", "[0.1, 0.2]", "(1, 2)" on a line of their own
_ATOM = r"\s*(?:[-+]?[\w.+-]+|'[^']*'|\"[^\"]*\")\s*"
_REPR = re.compile(r"\{" + _ATOM + r":\s|^\s*[\[(]" + _ATOM + r"(?:," + _ATOM + r")+,?[\])]\s*$"
                   + r"|^\s*(?:\[\]|\{\}|array\(\[)", re.M)


def _hidden_cells(book_html: Path, book_root: Path, page: str) -> int:
    """How many code cells of the page's notebook are folded away (hide-input); 0 for a Markdown page."""
    for path in (book_html / "_sources" / f"{page}.ipynb", book_root / f"{page}.ipynb"):
        if path.is_file():
            nb = nbformat.read(path, as_version=4)
            return sum("hide-input" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")
    return 0


def test_no_code_cell_scrolls_sideways(rendered, page):
    overflow = rendered(page)["reader"]["code_overflow"]
    assert overflow == [], f"{page}: code wider than the column: {overflow[:3]}"


def test_figures_are_shown_at_a_readable_scale(rendered, page):
    # a figure drawn for the content column (tpnb.plotting.COLUMN_WIDTH) is shown at its natural size; one
    # drawn wider is shrunk, and its fonts with it, below what tpnb.plotting guarantees
    small = [(f["src"].rsplit("/", 1)[-1][:12], f["natural"], round(f["shown"]))
             for f in rendered(page)["reader"]["figures"] if f["shown"] < 0.9 * f["natural"]]
    assert small == [], f"{page}: figures shrunk below 90% of their drawn size (natural px, shown px): {small}"


def test_no_output_is_a_python_container_repr(rendered, page):
    reprs = [text.strip()[:120] for text in rendered(page)["reader"]["outputs"] if _REPR.search(text)]
    assert reprs == [], f"{page}: outputs that print a dict, list or tuple: {reprs[:3]}"


def test_folded_cells_are_on_the_page_and_open(rendered, book_html, book_root, page):
    folded = rendered(page)["reader"]["folded"]
    assert len(folded) == _hidden_cells(book_html, book_root, page), f"{page}: hidden cells missing"
    wrong = [k for k, cell in enumerate(folded) if not (cell["details"] and cell["closed"] and cell["opened"])]
    assert wrong == [], f"{page}: folded cells that are not closed, or do not open on a click: {wrong[:5]}"


def test_first_screen_shows_prose_before_code(rendered, page):
    reader = rendered(page)["reader"]
    top = reader["first_prose_top"]
    assert top is not None and top < reader["screen"], f"{page}: no paragraph on the first screen"
    code = reader["first_code_top"]
    assert code is None or top < code, f"{page}: code comes before the first paragraph"
