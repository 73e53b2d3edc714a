#!/usr/bin/env python
"""The widest network of ``--grid paper`` at the paper's scale, fold-stacked inside its memory budget, on CPU.

A ``first_layer`` 6,000, 3-layer network on 21,766 genes and 262 training patients is about 2.4 GB per CV-fold
member while training (``radplug.models.stacked.member_bytes``); all 10 folds stacked would need about 24 GB. The
stacked trainer splits the folds into groups that fit the budget (``MEMORY_SHARE`` of ``RADPLUG_MEMORY_GB``, the
cgroup limit or the available memory). This benchmark trains every fold for a few epochs through
``stacked_fold_proba`` (the path SEARCH uses) and prints the budget, the fold groups, the time and the peak RSS of
the process, which must stay within the budget plus the data.

    RADPLUG_MEMORY_GB=8 python benchmarks/bench_wide_network.py [--folds 10] [--epochs 2] [--width 6000]
"""

from __future__ import annotations

import argparse
import logging
import resource
import time

import numpy as np

from radplug.models.stacked import (
    MEMORY_SHARE,
    device_memory_limit_bytes,
    fold_groups,
    member_bytes,
    stacked_fold_proba,
)
from radplug.training.cv import cv_splits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=21766)
    ap.add_argument("--samples", type=int, default=262)
    ap.add_argument("--width", type=int, default=6000, help="first_layer (the paper grid's widest is 6,000)")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the budget is then the GPU's free memory too)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.samples, a.genes)).astype(np.float32)
    y = (X[:, :50].sum(axis=1) + rng.normal(scale=3, size=a.samples) > 0).astype(int)
    splits = cv_splits(y, a.folds, 42)
    need = member_bytes(a.samples, a.genes, 2, a.width, a.layers)
    budget = int(MEMORY_SHARE * device_memory_limit_bytes(a.device))
    groups = fold_groups(a.folds, need, budget)
    data_gb = (X.nbytes * (a.folds + 1)) / 2**30   # the data and its per-fold standardized copies
    print(f"network {a.genes}-{a.width}-... ({a.layers} layers), {a.samples} patients, {a.folds} folds, "
          f"{a.epochs} epochs")
    print(f"one fold's member: {need / 2**30:.2f} GB; all folds stacked: {need * a.folds / 2**30:.1f} GB; "
          f"budget {budget / 2**30:.1f} GB ({MEMORY_SHARE:.0%} of {device_memory_limit_bytes(a.device) / 2**30:.1f} GB "
          f"on {a.device})")
    print(f"fold groups: {len(groups)} of at most {max(len(g) for g in groups)} folds; data {data_gb:.2f} GB")
    params = {"first_layer": a.width, "n_layers": a.layers, "activation": "relu", "dropout": 0.4,
              "optimizer": "nadam", "batch_size": 16, "epochs": a.epochs, "patience": a.epochs + 1,
              "validation_fraction": 0.1}
    start = time.perf_counter()
    probas = stacked_fold_proba(params, X, y, splits, seed=42, device=a.device)
    seconds = time.perf_counter() - start
    if a.device.startswith("cuda"):
        import torch

        print(f"GPU peak memory allocated {torch.cuda.max_memory_allocated() / 2**30:.2f} GB")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    assert len(probas) == a.folds and all(np.isfinite(p).all() for p in probas)
    print(f"trained {a.folds} folds x {a.epochs} epochs in {seconds:.0f} s "
          f"({seconds / (a.folds * a.epochs):.1f} s per fold-epoch); peak RSS {peak_gb:.2f} GB "
          f"(budget {budget / 2**30:.1f} GB + data {data_gb:.2f} GB: "
          f"{'within' if peak_gb <= budget / 2**30 + data_gb + 1 else 'OVER'})")


if __name__ == "__main__":
    main()
