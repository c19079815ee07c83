"""Chart tests: four inline SVG charts with page-unique ids, deterministic output, data drawn
from the comparison, and instance text escaped (mathtext off)."""

from __future__ import annotations

import re

import pytest

from solver import Comparison, compare
from solver.report.charts import PLAN_COLOURS, charts
from tests.test_report_compare import SITE_A, SITE_B, hostile_plan, two_plans


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    """The two-plan comparison."""
    return two_plans().comparison()


@pytest.fixture(scope="module")
def svgs(comparison: Comparison) -> dict[str, str]:
    """The comparison's charts."""
    return charts(comparison)


def test_four_inline_svgs(svgs: dict[str, str]) -> None:
    """Power, costs, latency and utilization, each a bare <svg> element with no prolog."""
    assert set(svgs) == {"power", "costs", "latency", "utilization"}
    for name, svg in svgs.items():
        assert svg.startswith(f'<svg role="img" aria-label="{name} chart"')
        assert svg.rstrip().endswith("</svg>")
        assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<script" not in svg


def test_ids_are_unique_across_charts(svgs: dict[str, str]) -> None:
    """Every id carries its chart's name, no id repeats, and every #reference resolves."""
    all_ids: list[str] = []
    for name, svg in svgs.items():
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert ids and all(element_id.startswith(f"{name}-") for element_id in ids)
        references = set(re.findall(r'(?:href="|url\()#([^")]+)', svg))
        assert references <= set(ids)
        all_ids += ids
    assert len(all_ids) == len(set(all_ids))


def test_charts_are_deterministic(comparison: Comparison, svgs: dict[str, str]) -> None:
    """Drawing the same comparison again gives byte-identical SVG."""
    assert charts(comparison) == svgs


def test_plans_drawn_in_their_colours(comparison: Comparison, svgs: dict[str, str]) -> None:
    """Per-site charts draw one bar per site and plan in the plan's colour, with site labels."""
    sites = len(comparison.site_ids)
    for name in ("power", "utilization"):
        for colour in PLAN_COLOURS[:2]:
            assert svgs[name].count(f"fill: {colour}") >= sites
        for site in comparison.site_ids:
            assert f">{site}</text>" in svgs[name]
    for label in comparison.labels:
        assert f">{label}</text>" in svgs["costs"]


def test_hostile_text_is_escaped_and_literal() -> None:
    """Site ids and plan labels with markup and `$` come out as escaped, literal text."""
    instance, solution = hostile_plan()
    labels = ["$x$ <b>one</b>", 'two "<script>"']
    svgs = charts(compare([(instance, solution), (instance, solution)], labels=labels))
    page = "".join(svgs.values())
    assert "<script" not in page and "<b>" not in page
    assert '>&lt;script&gt;alert("site")&lt;/script&gt;</text>' in page
    assert ">dc'\"&amp;&lt;b&gt;bold&lt;/b&gt;</text>" in page
    assert "$x$ &lt;b&gt;one&lt;/b&gt;" in page
    assert SITE_A not in page and SITE_B not in page
