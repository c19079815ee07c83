"""HTML report tests: one self-contained page (no script, nothing fetched), escaped instance
text, and the page as headless Chromium renders it: its DOM text holds the evaluator's
totals, the four charts are there, and a screenshot shows them (not a blank page).

Chromium comes from `scripts/test-deps.sh` (run by `make test` and CI). Without it the
browser tests skip locally and fail under CI, where it must be present.
"""

from __future__ import annotations

import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from solver import Comparison, report
from solver.report.charts import PLAN_COLOURS
from solver.report.html import render_html
from tests.test_report_compare import (
    HOSTILE_NAME,
    JOB,
    REGION,
    SERVICE,
    SITE_A,
    SITE_B,
    hostile_plan,
    two_plans,
)

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (1280, 2000)


class TextAndTags(HTMLParser):
    """Collects a page's visible text (outside style) and the tags it opens."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the tag; note when style text starts."""
        self.tags.append(tag)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        """Note when style text ends."""
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        """Keep text outside <style>."""
        if not self._in_style:
            self.text.append(data)


def parse(page: str) -> TextAndTags:
    """The page's text and tags."""
    parser = TextAndTags()
    parser.feed(page)
    return parser


def chromium(page: Path, workdir: Path, screenshot: Path | None = None) -> str:
    """Load a file in headless Chromium with networking off; return the serialised DOM."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/test-deps.sh installs it")
        pytest.skip("chromium is not installed (scripts/test-deps.sh installs it)")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={workdir / 'profile'}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--dump-dom",
    ]
    if screenshot is not None:
        command.append(f"--screenshot={screenshot}")
    done = subprocess.run(
        [*command, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    """The two-plan comparison."""
    return two_plans().comparison()


@pytest.fixture(scope="module")
def page(comparison: Comparison) -> str:
    """The comparison as HTML."""
    return render_html(comparison)


def test_page_is_self_contained(page: str) -> None:
    """No script, no external stylesheet, image or font; a CSP forbids any fetch."""
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    tags = set(parse(page).tags)
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "src=" not in page and "@import" not in page and "url(http" not in page
    # The only URLs are XML namespace names, which are identifiers, not requests.
    for match in re.finditer(r"https?://[^\"' )]+", page):
        before = page[max(0, match.start() - 20) : match.start()]
        assert "xmlns" in before, match.group(0)


def test_page_holds_totals_and_charts(page: str) -> None:
    """Both objectives and cost totals are in the text; four chart figures hold an <svg>."""
    plans = two_plans()
    text = " ".join(parse(page).text)
    for evaluation in (plans.base_eval, plans.cut_eval):
        assert f"{evaluation.objective:,.2f}" in text
        assert f"{evaluation.costs.compute:,.2f}" in text
    for name in ("power", "costs", "latency", "utilization"):
        assert re.search(rf'<figure id="chart-{name}"><svg role="img"', page)


def test_page_is_deterministic(comparison: Comparison, page: str) -> None:
    """Rendering again gives the same bytes (charts included)."""
    assert render_html(comparison) == page


def test_hostile_ids_are_escaped() -> None:
    """Ids with markup and quotes appear only escaped; the parsed page gains no element."""
    instance, solution = hostile_plan()
    page = render_html(report(instance, solution))
    for hostile in (SITE_A, SITE_B, REGION, JOB, HOSTILE_NAME):
        assert hostile not in page
    parsed = parse(page)
    assert not set(parsed.tags) & {"script", "img", "b", "i"}
    text = "".join(parsed.text)
    for hostile in (SITE_A, SITE_B, JOB, SERVICE, HOSTILE_NAME):
        assert hostile in text
    assert "&lt;script&gt;alert(&quot;site&quot;)&lt;/script&gt;" in page


def test_chromium_renders_totals_charts_and_pixels(page: str, tmp_path: Path) -> None:
    """Chromium's DOM has the totals and four charts; the screenshot shows the plan colours."""
    plans = two_plans()
    html_file = tmp_path / "compare.html"
    html_file.write_text(page, encoding="utf-8")
    screenshot = tmp_path / "shot.png"
    dom = chromium(html_file, tmp_path, screenshot)
    parsed = parse(dom)
    text = " ".join(parsed.text)
    for evaluation in (plans.base_eval, plans.cut_eval):
        assert f"{evaluation.objective:,.2f}" in text
    assert "Plan comparison: base vs cut" in text
    assert parsed.tags.count("svg") == 4
    assert "script" not in parsed.tags
    for name in ("power", "costs", "latency", "utilization"):
        assert f'class="chart chart-{name}"' in dom

    image = Image.open(screenshot).convert("RGB")
    assert image.size == WINDOW
    colours = image.getcolors(maxcolors=WINDOW[0] * WINDOW[1])
    assert colours is not None
    counts = {colour: count for count, colour in colours}
    assert len(counts) > 100, "the page renders more than a few flat colours"
    white = counts.get((255, 255, 255), 0)
    assert white < 0.9 * WINDOW[0] * WINDOW[1], "the page is not blank"
    # Chart bars are drawn in the plans' colours: many pixels of each, in the first screen.
    for colour in PLAN_COLOURS[:2]:
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert counts.get(rgb, 0) > 1000, colour


def test_chromium_keeps_hostile_ids_as_text(tmp_path: Path) -> None:
    """In the browser's DOM the hostile ids are text: no script or img element exists."""
    instance, solution = hostile_plan()
    html_file = tmp_path / "hostile.html"
    html_file.write_text(render_html(report(instance, solution)), encoding="utf-8")
    dom = chromium(html_file, tmp_path)
    parsed = parse(dom)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    text = "".join(parsed.text)
    assert SITE_A in text and JOB in text and REGION not in parsed.tags
