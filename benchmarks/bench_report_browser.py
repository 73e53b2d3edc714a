#!/usr/bin/env python
"""A finished run's report in headless Chromium (Debian's package, as the browser tests use it): load time,
filter time, every target's view, the curves of the best targets, console errors and external requests.

For a real run too large for the test suite, e.g. NSCLC-Radiogenomics on all 1,764 PyRadiomics features
(1,385 targets; docs/inputs.md has the command):

    python benchmarks/bench_report_browser.py RESULTS [--rebuild] [--screenshots DIR]

``--rebuild`` first rebuilds RESULTS/report with this checkout's radplug.reporting.report. Prints the figures
and exits 1 when a check fails (load >= 5 s, a filter >= 1 s, a view or curve missing, a console error, an
external request).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from radplug.io import safe_id

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
FILTER_MS = """([selector, text]) => {
  const box = document.querySelector(selector), start = performance.now();
  box.value = text; box.dispatchEvent(new Event("input"));
  document.body.offsetHeight;   // the layout that hiding rows needs
  return performance.now() - start;
}"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--screenshots", type=Path, default=None)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    if a.rebuild:
        from radplug.reporting.report import build_report

        t0 = time.perf_counter()
        build_report(a.results)
        print(f"report rebuilt in {time.perf_counter() - t0:.1f} s")
    out = a.results / "report"
    overview = pd.read_csv(out / "tables" / "targets_overview.csv")
    with_auc = overview.dropna(subset=["test_auc"]) if "test_auc" in overview else overview
    failures: list[str] = []
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        start = time.monotonic()
        page.goto((out / "report.html").as_uri(), wait_until="load")
        load_s = time.monotonic() - start
        first = page.evaluate("document.querySelector('section').id")
        views = page.locator("details.target").count()
        rows = page.locator("#tbl-targets tbody tr").count()
        target = str(overview["target"].iloc[len(overview) // 2])
        filter_ms = page.evaluate(FILTER_MS, ['input[data-table="tbl-targets"]', target])
        kept = page.locator("#tbl-targets tbody tr:visible").count()
        views_ms = page.evaluate(FILTER_MS, ['input[data-details="target-views"]', "glcm"])
        page.fill('input[data-details="target-views"]', "")
        best = str(overview["target"].iloc[0])
        view = page.locator(f"details#target-{safe_id(best)}")
        view.locator("summary").click()
        curves = {}
        for kind in ("roc", "pr"):
            img = view.locator(f'img[data-figure="{kind}_{safe_id(best)}"]')
            img.scroll_into_view_if_needed()
            curves[kind] = img.evaluate("el => el.decode().then(() => el.naturalWidth, () => 0)")
        if a.screenshots:
            a.screenshots.mkdir(parents=True, exist_ok=True)
            view.screenshot(path=str(a.screenshots / "report_real_target.png"))
            page.locator("section#headline").screenshot(path=str(a.screenshots / "report_real_headline.png"))
        browser.close()
    size_mb = (out / "report.html").stat().st_size / 2**20
    print(f"report: {size_mb:.1f} MB, {len(overview)} targets ({len(with_auc)} with a test AUC); "
          f"loads in {load_s:.2f} s; first section '{first}'; {views} per-target views, {rows} table rows")
    print(f"filter the targets table to one name: {filter_ms:.0f} ms ({kept} row kept); filter the views: "
          f"{views_ms:.0f} ms; best target {best}: ROC {curves['roc']} px, PR {curves['pr']} px wide")
    print(f"console errors: {len(errors)}; external requests: {len(requests)}")
    checks = {"loads in under 5 s": load_s < 5, "headline first": first == "headline",
              "a view per target": views == len(overview), "a row per target": rows == len(overview),
              "filtering under 1 s": max(filter_ms, views_ms) < 1000, "one row kept": kept == 1,
              "curves decode": min(curves.values()) > 100, "no console error": not errors,
              "no external request": not requests}
    failures = [name for name, ok in checks.items() if not ok]
    print("checks: " + ("all passed" if not failures else "FAILED: " + ", ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
