"""Benchmark: a whole pipeline run with ``--grid standard``, its cost and which model family wins.

Runs ``nextflow run main.nf --grid standard`` (the embedded default cohort unless ARGS give ``--input``; the
default profile, as ``make run``), timing it and sampling the load average, or summarises a finished run's
results folder. Prints:

- wall time, the trace's total CPU time (sum over tasks of realtime x %cpu) and the CPU time per process;
- the load average while it ran (on a shared machine the wall time is inflated by other work);
- how often each family wins in CV (``selection.parquet``: the selected family per target);
- with ``--test-wins``: how often each family wins on the test cohort. Only the selected family is trained by
  the pipeline, so every family's best configuration (the rows of ``selection.parquet``) is refitted here on
  the training cohort with the run's seed and class weights and scored once on the test cohort (AUC; micro
  AUC for multiclass targets); its CPU time is printed separately and is not part of the run's.

    python benchmarks/bench_grid_standard.py [--outdir results-standard] [-- extra nextflow args]
    python benchmarks/bench_grid_standard.py --results results-standard --wall 1234 [--load 10.2] --test-wins
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(text: object) -> float:
    """Seconds of a Nextflow duration ('1m 2s', '345ms')."""
    found = re.findall(r"([\d.]+)\s*(ms|s|m|h|d)\b", str(text))
    return float(sum(float(v) * UNITS[u] for v, u in found)) if found else float("nan")


def trace_table(results: Path) -> pd.DataFrame:
    """The newest execution trace of ``results`` with ``seconds`` and ``cpu_s`` (realtime x %cpu) per task."""
    traces = sorted((results / "pipeline_info").glob("execution_trace_*.txt"))
    if not traces:
        raise SystemExit(f"no execution trace under {results / 'pipeline_info'}")
    tr = pd.read_csv(traces[-1], sep="\t")
    tr["seconds"] = tr["realtime"].map(seconds)
    tr["cpu_s"] = tr["seconds"] * pd.to_numeric(tr["%cpu"].astype(str).str.rstrip("%"), errors="coerce") / 100
    tr["step"] = tr["process"].astype(str).str.split(":").str[-1]
    return tr


def run_pipeline(outdir: str, extra: list[str]) -> tuple[float, list[float]]:
    """Run the pipeline; (wall seconds, 1-minute load averages sampled every 30 s)."""
    nf = REPO / ".venv" / "bin" / "nextflow"
    cmd = [str(nf if nf.exists() else "nextflow"), "run", str(REPO / "main.nf"), "--grid", "standard",
           "--outdir", outdir, *extra]
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(30):
            loads.append(os.getloadavg()[0])

    threading.Thread(target=sample, daemon=True).start()
    start = time.monotonic()
    env = {**os.environ, "NXF_OFFLINE": "true", "NXF_ANSI_LOG": "false",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(cmd, env=env)
    wall = time.monotonic() - start
    done.set()
    if proc.returncode:
        raise SystemExit(f"the pipeline failed (exit {proc.returncode})")
    return wall, loads


def test_wins(results: Path, seed: int, class_weight: str) -> tuple[pd.DataFrame, float]:
    """Every family's best configuration per target refitted on the training cohort and scored on the test
    cohort; (one row per target x family with cv_auc and test_auc, CPU seconds spent)."""
    from radplug.io import read_expression, read_parquet
    from radplug.training.final import evaluate, fit_final

    expression = read_expression(results / "data" / "expression.parquet")
    targets = read_parquet(results / "data" / "targets.parquet")
    tasks = read_parquet(results / "data" / "tasks.parquet")
    sel = read_parquet(results / "cv" / "selection.parquet")
    cpu0 = time.process_time()
    rows = []
    for r in sel.itertuples():
        one = sel.loc[[r.Index]].assign(selected=True)
        model = fit_final(r.target, one, expression, targets, tasks, seed, "cpu", class_weight)
        met, _ = evaluate([model], expression, targets, n_boot=0, seed=seed)
        overall = met[met["averaging"] != "one-vs-rest"]
        rows.append({"target": r.target, "family": r.family, "config_id": r.config_id, "cv_auc": r.auc_mean,
                     "test_auc": float(overall["auc"].iloc[0]) if len(overall) else np.nan,
                     "selected": bool(r.selected)})
    return pd.DataFrame(rows), time.process_time() - cpu0


def wins(table: pd.DataFrame, col: str) -> pd.Series:
    """Targets won per family on ``col`` (the highest value per target; a tie counts for each tied family)."""
    best = table.groupby("target")[col].transform("max")
    return table[table[col] == best].groupby("family")["target"].nunique()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--outdir", default="results-standard", help="results folder of the run started here")
    p.add_argument("--results", default=None, help="summarise this finished run instead of starting one")
    p.add_argument("--wall", type=float, default=None, help="with --results: the run's wall time in seconds")
    p.add_argument("--load", type=float, default=None, help="with --results: the mean load average while it ran")
    p.add_argument("--test-wins", action="store_true", help="refit every family's best configuration and score "
                                                           "the test cohort (family wins on the test cohort)")
    p.add_argument("extra", nargs="*", help="extra nextflow arguments (after --)")
    a = p.parse_args(argv)
    if a.results:
        results, wall, loads = Path(a.results), a.wall, ([a.load] if a.load is not None else [])
    else:
        results = Path(a.outdir)
        wall, loads = run_pipeline(a.outdir, a.extra)
    params_file = results / "pipeline_info" / "params.json"
    params = json.loads(params_file.read_text()) if params_file.exists() else {}
    tr = trace_table(results)
    print(f"results: {results}  (grid {params.get('grid')}, models {params.get('models')}, "
          f"{params.get('cv_folds')}-fold CV, input {params.get('input') or 'embedded cohort'})")
    print(f"cores on this machine: {os.cpu_count()}")
    if wall is not None:
        print(f"wall time: {wall:.0f} s ({wall / 60:.1f} min)")
    if loads:
        print(f"load average while running: mean {np.mean(loads):.1f}, max {np.max(loads):.1f}")
    cpu = tr["cpu_s"].sum()
    print(f"trace: {len(tr)} tasks, total CPU time {cpu:.0f} s ({cpu / 60:.1f} min), "
          f"i.e. {cpu / 120:.1f} min on 2 idle cores if both were busy throughout")
    per = tr.groupby("step").agg(tasks=("cpu_s", "size"), cpu_s=("cpu_s", "sum"), max_task_s=("seconds", "max"))
    print(per.sort_values("cpu_s", ascending=False).round(0).to_string())
    sel = pd.read_parquet(results / "cv" / "selection.parquet")
    chosen = sel[sel["selected"]]
    print(f"\nCV wins (selected family) over {len(chosen)} targets:")
    print(chosen["family"].value_counts().to_string())
    print("\nselected per target:")
    print(chosen[["target", "family", "config_id", "auc_mean"]].round(3).to_string(index=False))
    metrics_file = results / "evaluation" / "test_metrics.parquet"
    if metrics_file.exists():
        met = pd.read_parquet(metrics_file)
        overall = met[met["averaging"] != "one-vs-rest"][["target", "family", "cv_auc", "auc", "auc_prior"]]
        print("\nselected models on the test cohort:")
        print(overall.round(3).to_string(index=False))
        print(f"mean CV AUC {overall['cv_auc'].mean():.3f}, mean test AUC {overall['auc'].mean():.3f} "
              f"(the CV AUC of the selected configuration is optimistic)")
    if a.test_wins:
        tab, spent = test_wins(results, int(params.get("seed", 42)), str(params.get("class_weight", "balanced")))
        print(f"\nevery family's best configuration refitted and tested ({len(tab)} fits, {spent:.0f} CPU s):")
        piv = tab.pivot_table(index="target", columns="family", values="test_auc").round(3)
        print(piv.to_string())
        print("\nwins per family (targets; ties count for each):")
        print(pd.DataFrame({"CV": wins(tab, "cv_auc"), "test": wins(tab, "test_auc")}).fillna(0).astype(int)
              .to_string())


if __name__ == "__main__":
    main()
