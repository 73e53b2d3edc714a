"""The report in a real browser: headless Chromium (Debian's package) renders report.html offline.

Screenshots of the headline panel and of one per-target view go to the test's tmp dir and, when the
environment variable RADPLUG_SCREENSHOTS names a folder, there too."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from report_synthetic import synthetic_results

from radplug.io import safe_id
from radplug.reporting.report import build_report

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                                 reason="Debian's chromium is not installed (apt-get install chromium)")]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


class Page:
    """A Chromium page that records console errors, page errors and every non-local request."""

    def __init__(self, pw, width: int = 1300, height: int = 900):
        self.browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        self.page = self.browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url)
                     if not r.url.startswith(("file:", "data:")) else None)

    def close(self) -> None:
        self.browser.close()


def _save_screenshot(locator, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    locator.screenshot(path=str(out))
    extra = os.environ.get("RADPLUG_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(extra) / name)
    assert out.stat().st_size > 5_000, name
    return out


def _assert_image_shown(img) -> None:
    name = img.get_attribute("data-figure")
    img.scroll_into_view_if_needed()
    width = img.evaluate("el => el.decode().then(() => el.naturalWidth, () => 0)")
    assert width > 100, f"{name} did not decode"
    box = img.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, name
    assert img.is_visible(), name


def _open_view(page, target: str):
    view = page.locator(f"details#target-{safe_id(target)}")
    view.locator("summary").click()
    assert view.evaluate("el => el.open")
    return view


def _headline_is_first(page) -> None:
    assert page.evaluate("document.querySelector('section').id") == "headline"
    box = page.locator("section#headline").bounding_box()
    assert box and box["y"] < 400, "the headline is not on the first screen"
    assert page.locator("section#headline .card").count() >= 3


@pytest.mark.pipeline
def test_report_renders_in_headless_chromium(test_profile_run, tmp_path):
    from playwright.sync_api import sync_playwright

    out = test_profile_run.outdir / "report"
    tables = out / "tables"
    metrics = pd.read_csv(tables / "test_metrics.csv")
    overall = metrics[metrics["averaging"] != "one-vs-rest"]
    with_auc = list(overall.loc[overall["auc"].notna(), "target"])
    assert with_auc
    with sync_playwright() as pw:
        p = Page(pw)
        page = p.page
        page.goto((out / "report.html").as_uri(), wait_until="load")
        assert p.errors == [], p.errors
        assert p.requests == [], f"the report fetched external resources: {p.requests}"

        # summary first: the headline panel, then the details; parameters in the appendix
        _headline_is_first(page)
        order = page.evaluate("Array.from(document.querySelectorAll('section')).map(s => s.id)")
        assert order[0] == "headline" and order[-1] == "appendix"
        assert {"targets", "models", "masking", "data"} <= set(order)
        assert page.locator("section#appendix #tbl-params").count() == 1
        chance = pd.read_parquet(test_profile_run.outdir / "evaluation" / "target_chance.parquet").iloc[0]
        headline = page.locator("section#headline").inner_text()
        assert f"{int(chance['passing'])} of {int(chance['targets'])}" in headline
        assert f"{chance['expected_by_chance']:.1f}" in headline
        passing = overall[overall["auc"] >= chance["threshold"]]
        assert page.locator("#tbl-headline tbody tr").count() == min(len(passing), 30) or len(passing) == 0
        _save_screenshot(page.locator("section#headline"), tmp_path, "report_headline.png")

        # every figure in the page is a decoded, non-empty, visible image
        figures = page.locator("img.fig")
        assert figures.count() >= 3
        for i in range(figures.count()):
            _assert_image_shown(figures.nth(i))

        # every target with a test AUC: its view opens with a ROC and a PR curve
        for target in with_auc:
            view = _open_view(page, target)
            for kind in ("roc", "pr"):
                _assert_image_shown(view.locator(f'img[data-figure="{kind}_{safe_id(target)}"]'))
        best = overall.sort_values("auc", ascending=False)["target"].iloc[0]
        _save_screenshot(page.locator(f"details#target-{safe_id(best)}"), tmp_path, "report_target.png")
        assert p.errors == [], p.errors

        # tables hold the rows of the published tables
        assert page.locator("#tbl-test tbody tr").count() == len(metrics)
        masking = pd.read_csv(tables / "masking_all.csv")
        assert page.locator("#tbl-masking-all tbody tr").count() == min(len(masking), 5000)

        # the filter box works: typing a target keeps only its rows
        target = metrics["target"].iloc[0]
        page.fill('input[data-table="tbl-test"]', target)
        shown = page.locator("#tbl-test tbody tr:visible").count()
        assert shown == int(metrics["target"].astype(str).str.contains(target, regex=False).sum())
        assert page.locator("#tbl-test-count").inner_text() == f"{shown} rows"

        # sorting a numeric column orders it
        page.locator("#tbl-test th").filter(has_text=re.compile(r"^auc$")).click()
        col = list(metrics.columns).index("auc")
        values = page.locator(f"#tbl-test tbody tr td:nth-child({col + 1})").all_inner_texts()
        nums = [float(v) for v in values if v]
        assert nums == sorted(nums)
        assert p.requests == []
        p.close()

    # every figure is written as SVG and as a 300-dpi PNG
    from PIL import Image

    figures = out / "figures"
    for svg in figures.glob("*.svg"):
        png = svg.with_suffix(".png")
        assert png.exists(), png
        with Image.open(png) as im:
            assert round(im.info["dpi"][0]) == 300, png
    assert {f"roc_{safe_id(t)}" for t in with_auc} <= {s.stem for s in figures.glob("*.svg")}
    # the run's log ends with the summary line of the top findings
    summary = (out / "summary.txt").read_text().strip()
    assert summary.startswith("radplug summary:") and summary in test_profile_run.log


# type into a filter box from the page itself: the milliseconds the filter takes, without the test's own queries
FILTER_MS = """([selector, text]) => {
  const box = document.querySelector(selector), start = performance.now();
  box.value = text; box.dispatchEvent(new Event("input"));
  document.body.offsetHeight;   // the layout that hiding rows needs
  return performance.now() - start;
}"""


@pytest.fixture(scope="module")
def many_targets(tmp_path_factory) -> Path:
    """A results folder with 1,500 targets written with radplug's writers, and its report (figures for the top 5
    targets, to keep the test short; the tables and views hold every target)."""
    res = synthetic_results(tmp_path_factory.mktemp("many") / "results", n_targets=1500)
    build_report(res, top_n=5)
    return res


def test_report_with_1500_targets_stays_usable(many_targets, tmp_path):
    from playwright.sync_api import sync_playwright

    out = many_targets / "report"
    ov = pd.read_csv(out / "tables" / "targets_overview.csv")
    assert len(ov) == 1500
    with sync_playwright() as pw:
        p = Page(pw)
        page = p.page
        start = time.monotonic()
        page.goto((out / "report.html").as_uri(), wait_until="load")
        seconds = time.monotonic() - start
        assert seconds < 5, f"the report took {seconds:.1f} s to load"
        assert p.errors == [] and p.requests == [], (p.errors, p.requests)
        _headline_is_first(page)
        assert page.locator("details.target").count() == 1500
        assert page.locator("#tbl-targets tbody tr").count() == 1500

        # the tables filter: one target's name keeps its row (names are unique), within a second in the page
        target = ov["target"].iloc[700]
        ms = page.evaluate(FILTER_MS, ['input[data-table="tbl-targets"]', target])
        assert page.locator("#tbl-targets tbody tr:visible").count() == 1
        assert page.locator("#tbl-targets-count").inner_text() == "1 rows"
        # and the per-target views: a group's name keeps its targets
        ms = max(ms, page.evaluate(FILTER_MS, ['input[data-details="target-views"]', "glcm_"]))
        n_glcm = int(ov["target"].str.lower().str.contains("glcm_").sum())
        assert page.locator("#target-views-count").inner_text() == f"{n_glcm} targets"
        assert page.locator("details.target:visible").count() == n_glcm
        assert ms < 1000, f"filtering took {ms:.0f} ms"
        page.fill('input[data-details="target-views"]', "")

        # a view beyond the top 5 opens with its tables (no curves), the best one with its curves
        view = _open_view(page, target)
        assert view.locator("table.tbl").count() >= 2 and view.locator("img.fig").count() == 0
        best = ov["target"].iloc[0]
        view = _open_view(page, best)
        for kind in ("roc", "pr"):
            _assert_image_shown(view.locator(f'img[data-figure="{kind}_{safe_id(best)}"]'))
        _save_screenshot(view, tmp_path, "report_1500_target.png")
        # histology is the paper's kind of target: the comparison is there, marked as another cohort
        paper = page.locator("#tbl-paper").inner_text()
        assert "0.86" in paper and "different cohort" in paper
        assert p.errors == [] and p.requests == [], (p.errors, p.requests)
        p.close()
