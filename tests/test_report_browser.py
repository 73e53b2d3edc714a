"""The report in a real browser: headless Chromium (Debian's package) renders report.html offline."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

pytestmark = [pytest.mark.pipeline, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(test_profile_run, tmp_path):
    from playwright.sync_api import sync_playwright

    report = test_profile_run.outdir / "report" / "report.html"
    tables = test_profile_run.outdir / "report" / "tables"
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(report.as_uri(), wait_until="load")

        assert errors == [], errors
        assert requests == [], f"the report fetched external resources: {requests}"
        for section in ("summary", "models", "masking"):
            assert page.locator(f"section#{section}").is_visible()

        # every figure is a decoded, non-empty, visible image
        figures = page.locator("img.fig")
        assert figures.count() >= 3
        for i in range(figures.count()):
            img = figures.nth(i)
            width = img.evaluate("el => el.complete ? el.naturalWidth : 0")
            assert width > 100, img.get_attribute("data-figure")
            box = img.bounding_box()
            assert box and box["width"] > 100 and box["height"] > 100

        # tables hold the rows of the published tables
        metrics = pd.read_csv(tables / "test_metrics.csv")
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
        col = list(pd.read_csv(tables / "test_metrics.csv").columns).index("auc")
        values = page.locator(f"#tbl-test tbody tr td:nth-child({col + 1})").all_inner_texts()
        nums = [float(v) for v in values if v]
        assert nums == sorted(nums)

        page.fill('input[data-table="tbl-test"]', "")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
