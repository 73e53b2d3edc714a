"""What a run will cost, before it starts: ``radplug plan --estimate`` and the PLAN step's log.

Counts are exact (the SEARCH jobs PLAN writes, the CV fits they run, one FIT_FINAL per target, at most one MASK
task per target and gene-set source). Memory and time are rough models, stated so a user can judge them:

- networks: parameters from the layer widths; memory while training ``radplug.models.stacked.member_bytes`` per
  stacked fold (capped by the task's memory budget, which stacks fewer folds); time ``6 x parameters x
  training rows x epochs`` floating-point operations (forward and backward; the configuration's maximum epochs,
  so an upper bound when early stopping ends training sooner) at a throughput measured on this machine;
- scikit-learn families: operation counts of the usual algorithms (SAGA passes for the elastic net, the kernel
  matrix for the SVM, tree growth for the forests and boosting) at ``SKLEARN_OPS_PER_S``, an order of magnitude
  only;
- every fit also pays a fixed cost that the operation count misses and that dominates on small cohorts (Python
  and scikit-learn overhead per tree, per boosting iteration, per mini-batch): ``FIT_OVERHEAD_S``, CPU seconds
  measured on the 2-core development machine (one thread, 38 patients x 985 genes; see its comment).

The time is CPU time summed over tasks; the wall time on N cores is about that divided by N when the tasks
run in parallel.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from radplug.models.stacked import MEMORY_SHARE, member_bytes, memory_limit_bytes, network_parameters
from radplug.plugins import get_family
from radplug.training.search import final_units, fit_groups, grid, plan_jobs, unit_targets


def measured_flops(seconds: float = 0.2) -> float:
    """Floating-point operations per second of a float32 matrix product on this machine (one thread's worth
    of the BLAS the models use; under load it reads lower and the estimate is pessimistic)."""
    a = np.random.default_rng(0).normal(size=(384, 384)).astype(np.float32)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ a
        n += 1
    return 2 * 384**3 * n / (time.perf_counter() - start)


#: CPU seconds per fit that do not scale with the operation count: per tree (rf), per boosting iteration (gbt),
#: per fit (enet, svm, a plugin family) and per mini-batch step (networks). Measured with time.process_time on the
#: development machine, one thread, 38 rows x 985 genes (the NSCLC-Radiogenomics training cohort), the standard
#: grid: rf 0.24 s per 200-tree fit, gbt 0.27 s per 100-iteration fit, enet 0.023 s, svm 0.0023 s.
FIT_OVERHEAD_S = {"rf_tree": 0.0012, "gbt_iteration": 0.0027, "enet": 0.023, "svm": 0.0023, "other": 0.01,
                  "mlp_batch": 0.0015}


def _fit_overhead_seconds(family: str, params: dict[str, Any], n: int) -> float:
    """The fixed CPU seconds of one fit (``FIT_OVERHEAD_S``)."""
    if family == "mlp" or "first_layer" in params:
        steps = params.get("epochs", 100) * math.ceil(n / params.get("batch_size", 32))
        return FIT_OVERHEAD_S["mlp_batch"] * steps
    if family == "rf":
        return FIT_OVERHEAD_S["rf_tree"] * params.get("n_estimators", 100)
    if family == "gbt":
        return FIT_OVERHEAD_S["gbt_iteration"] * params.get("max_iter", 100)
    return FIT_OVERHEAD_S.get(family, FIT_OVERHEAD_S["other"])


#: Operations per second scikit-learn's solvers and tree builders reach on one core: far below the BLAS rate of a
#: matrix product (``measured_flops``), which only the networks reach. Calibrated on the development machine against
#: fits of the standard grid on 236 rows x 2,000 genes (enet 0.43 s, rf 0.71 s, gbt 0.85 s per fit; the SVM's count
#: is an upper bound: 0.02 s measured).
SKLEARN_OPS_PER_S = 1.5e9


def _fit_seconds(family: str, params: dict[str, Any], n: int, p: int, n_out: int, flops: float,
                 stacked: int = 1) -> float:
    """CPU seconds of one fit: the operation count at the network's measured ``flops`` (or at
    ``SKLEARN_OPS_PER_S`` for other families) plus the fixed overhead, shared by the ``stacked`` folds a
    fold-stacked network trains in one pass."""
    rate = flops if (family == "mlp" or "first_layer" in params) else SKLEARN_OPS_PER_S
    return _fit_flops(family, params, n, p, n_out) / rate + _fit_overhead_seconds(family, params, n) / stacked


def _fit_flops(family: str, params: dict[str, Any], n: int, p: int, n_out: int) -> float:
    """Operations of one fit of ``family`` with ``params`` on ``n`` rows and ``p`` genes (see the module doc)."""
    if family == "mlp" or "first_layer" in params:
        weights = network_parameters(p, n_out, params.get("first_layer", 2000), params.get("n_layers", 3))
        return 6.0 * weights * n * params.get("epochs", 100)
    if family == "enet":
        return 4.0 * n * p * params.get("max_iter", 200)
    if family == "svm":
        return 2.0 * n * n * p + 10.0 * n**3
    if family == "rf":
        return params.get("n_estimators", 100) * n * math.log2(max(n, 2)) * math.sqrt(p) * 20.0
    if family == "gbt":
        return params.get("max_iter", 100) * n * p * 8.0 * max(1, n_out)
    return 2.0 * n * p * 100   # a plugin family: a linear model's order of magnitude


def _fit_bytes(family: str, params: dict[str, Any], n: int, p: int, n_out: int) -> int:
    if family == "mlp" or "first_layer" in params:
        return member_bytes(n, p, n_out, params.get("first_layer", 2000), params.get("n_layers", 3))
    return 3 * 8 * n * p   # the standardized float64 training matrix and the estimator's copies


def estimate_run(tasks: pd.DataFrame, families: list[str], preset: str, chunk_size: int, folds: int,
                 n_train: int, n_genes: int, stack_folds: bool = True, n_sources: int = 1,
                 flops: float | None = None, memory_limit: int | None = None) -> pd.DataFrame:
    """One row per model family, and a total row: SEARCH tasks, CV fits, final fits, the largest task's memory
    (GB) and the CPU hours of SEARCH and FIT_FINAL (rough, see the module doc)."""
    flops = flops or measured_flops()
    budget = int(MEMORY_SHARE * (memory_limit or memory_limit_bytes()))
    jobs = plan_jobs(tasks, families, preset, chunk_size)
    n_classes = {r.target: len(json.loads(r.classes)) for r in tasks.itertuples()}
    rows = []
    for fam in families:
        configs = grid(fam, preset)
        staged = get_family(fam).staged
        # one fit per fit group (a staged family fits its largest configuration once for the group)
        fitted = [max((configs[i] for i in g), key=lambda c: c.get(staged.param, 0) if staged else 0)
                  for g in fit_groups(fam, preset)]
        fam_jobs = jobs[jobs["family"] == fam]
        units = fam_jobs["unit"].unique()
        fits = 0
        seconds = 0.0
        largest = 0
        for unit in units:
            targets = unit_targets(unit, tasks)
            n_out = len(targets) if unit.startswith("group:") else max(2, max(
                (n_classes.get(t, 2) for t in targets), default=2))
            per_config = len(targets) if unit.startswith("each:") else 1
            for params in fitted:
                stacked = folds if (stack_folds and "first_layer" in params) else 1
                fits += per_config * folds
                seconds += per_config * folds * _fit_seconds(fam, params, int(n_train * (folds - 1) / folds),
                                                             n_genes, n_out, flops, stacked)
                one = _fit_bytes(fam, params, n_train, n_genes, n_out)
                stacked = one * folds if (stack_folds and "first_layer" in params) else one
                largest = max(largest, min(stacked, max(budget, one)))
            if unit.startswith("group:"):   # the chosen configuration, cross-validated per feature
                fits += len(targets) * folds
                seconds += len(targets) * folds * max(
                    _fit_seconds(fam, c, n_train, n_genes, 2, flops,
                                 folds if (stack_folds and "first_layer" in c) else 1) for c in configs)
        rows.append({"family": fam, "configurations": len(configs), "search_tasks": len(fam_jobs),
                     "cv_fits": fits, "largest_task_gb": largest / 2**30, "search_cpu_hours": seconds / 3600})
    out = pd.DataFrame(rows)
    n_targets = len(tasks)
    final_seconds = n_targets * max((_fit_seconds(f, c, n_train, n_genes, 3, flops) for f in families
                                     for c in grid(f, preset)), default=0.0)
    total = {"family": "all", "configurations": int(out["configurations"].sum()),
             "search_tasks": int(out["search_tasks"].sum()), "cv_fits": int(out["cv_fits"].sum()),
             "largest_task_gb": float(out["largest_task_gb"].max()),
             "search_cpu_hours": float(out["search_cpu_hours"].sum())}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    n_units = len(final_units(tasks))   # FIT_FINAL runs one task per unit, MASK one per (unit, source)
    out.attrs.update(final_fits=n_targets, final_tasks=n_units, final_cpu_hours=final_seconds / 3600,
                     mask_tasks=n_units * n_sources, mask_targets=n_targets * n_sources, gflops=flops / 1e9,
                     memory_budget_gb=budget / 2**30)
    return out


def describe_estimate(est: pd.DataFrame) -> str:
    """The estimate as lines for the log and the terminal."""
    a = est.attrs
    lines = [f"{'family':8s} {'configs':>8s} {'SEARCH tasks':>13s} {'CV fits':>9s} {'largest task':>13s} "
             f"{'CPU hours':>10s}"]
    for r in est.itertuples():
        lines.append(f"{r.family:8s} {r.configurations:8d} {r.search_tasks:13d} {r.cv_fits:9d} "
                     f"{r.largest_task_gb:10.2f} GB {r.search_cpu_hours:10.2f}")
    lines.append(f"then {a['final_tasks']} FIT_FINAL tasks, one per unit ({a['final_fits']} final models, at most "
                 f"{a['final_cpu_hours']:.2f} CPU hours), 1 EVALUATE, at most {a['mask_tasks']} MASK tasks, one per "
                 f"(unit, gene-set source) ({a['mask_targets']} target x source maskings at most). "
                 "Rough: networks at their maximum epochs, "
                 f"{a['gflops']:.1f} GFLOP/s measured here, memory budget {a['memory_budget_gb']:.1f} GB per task")
    return "\n".join(lines)



