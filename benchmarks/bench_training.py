#!/usr/bin/env python
"""Network training throughput for the paper-size network (21,766 inputs, 2000-1000-500, batch 10).

Measured in the same run, on synthetic data of 262 samples:
  baseline  a plain PyTorch training loop (nn.Sequential, NAdam, BCE), one network;
  package   radplug.models.mlp.MLPClassifier.fit (the same network plus early-stopping bookkeeping);
  stacked   radplug.models.stacked.stacked_fold_proba training the K CV folds' networks at once.
Prints samples/s and s/epoch for each and the ratios against the baseline (for K folds the baseline
cost is K sequential trainings). Runs on CPU, and on CUDA too when PyTorch sees a GPU.

    python benchmarks/bench_training.py [--epochs 2] [--folds 3] [--genes 21766] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from radplug.models.mlp import MLPClassifier, build_network
from radplug.models.stacked import stacked_fold_proba
from radplug.training.cv import cv_splits

PARAMS = {"first_layer": 2000, "n_layers": 3, "activation": "relu", "dropout": 0.4, "optimizer": "nadam",
          "batch_size": 10, "validation_fraction": 0.1}


def plain_loop(X: np.ndarray, y: np.ndarray, epochs: int, device: str) -> float:
    """Seconds for ``epochs`` epochs of a textbook PyTorch loop on one network."""
    torch.manual_seed(0)
    net = build_network(X.shape[1], 1, 2000, 3, "relu", 0.4).to(device)
    opt = torch.optim.NAdam(net.parameters(), lr=2e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y.astype(np.float32)).to(device)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(Xt), device=device)
        for i in range(0, len(perm), 10):
            b = perm[i:i + 10]
            if len(b) < 2:
                continue
            opt.zero_grad()
            loss_fn(net(Xt[b]).squeeze(1), yt[b]).backward()
            opt.step()
    _sync(device)
    return time.perf_counter() - t0


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run(device: str, X: np.ndarray, y: np.ndarray, epochs: int, folds: int) -> None:
    splits = cv_splits(y, folds, 0)
    n_fold_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_fit = int(round(n_fold_train * (1 - PARAMS["validation_fraction"])))
    Xf, yf = X[:n_fit], y[:n_fit]
    plain_loop(Xf[:40], yf[:40], 1, device)  # warm-up (allocator, kernels)

    t_plain = plain_loop(Xf, yf, epochs, device)
    t0 = time.perf_counter()
    MLPClassifier(**PARAMS, epochs=epochs, patience=epochs, device=device, random_state=0).fit(
        X[:int(round(n_fold_train))], y[:int(round(n_fold_train))])
    t_pkg = time.perf_counter() - t0
    t0 = time.perf_counter()
    stacked_fold_proba({**PARAMS, "epochs": epochs, "patience": epochs}, X, y, splits, 0, device)
    _sync(device)
    t_stack = time.perf_counter() - t0

    sps_plain = n_fit * epochs / t_plain
    sps_pkg = n_fit * epochs / t_pkg
    sps_stack = n_fit * folds * epochs / t_stack
    print(f"\n[{device}] {X.shape[1]} inputs, 2000-1000-500, batch 10, {n_fit} training samples per fold, "
          f"{epochs} epochs, {folds} folds")
    print(f"  {'method':<32} {'samples/s':>10} {'s/epoch':>9} {'ratio':>7}")
    print(f"  {'baseline: plain PyTorch loop':<32} {sps_plain:>10.1f} {t_plain / epochs:>9.2f} {1.0:>7.2f}")
    print(f"  {'package: MLPClassifier.fit':<32} {sps_pkg:>10.1f} {t_pkg / epochs:>9.2f} "
          f"{sps_pkg / sps_plain:>7.2f}")
    print(f"  {f'stacked: {folds} folds at once':<32} {sps_stack:>10.1f} {t_stack / epochs:>9.2f} "
          f"{sps_stack / sps_plain:>7.2f}")
    print(f"  CV of one configuration ({folds} folds): sequential plain loops {folds * t_plain:.1f}s, "
          f"stacked {t_stack:.1f}s -> speed-up x{folds * t_plain / t_stack:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--genes", type=int, default=21766)
    ap.add_argument("--samples", type=int, default=262)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: PyTorch's)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.samples, a.genes)).astype(np.float32)
    y = (X[:, :50].sum(axis=1) > 0).astype(int)
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, "
          f"CUDA {torch.cuda.is_available()}")
    run("cpu", X, y, a.epochs, a.folds)
    if torch.cuda.is_available():
        run("cuda", X, y, a.epochs, a.folds)
    else:
        print("\nno CUDA device: GPU figures skipped")


if __name__ == "__main__":
    main()
