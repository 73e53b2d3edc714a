"""Benchmark: the masking engine against the literal zero-and-forward loop at the paper's scale.

All 7,647 GO BP sets of MSigDB 2023.2 (../shared/data/msigdb/c5.go.bp.v2023.2.Hs.symbols.gmt), a network of
the paper's size (21,766 inputs, 2000-1000-500, 3 classes, random weights, eval mode), 89 patients. The
engine masks every set; the literal loop (zero every other gene, run the whole network) runs on a random
sample of sets in the same process; both rates, their ratio and the agreement on the sample are printed.

    python benchmarks/bench_masking.py [--n-literal 24] [--threads 2] [--memory-mb 512]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
GMT = SHARED / "msigdb" / "c5.go.bp.v2023.2.Hs.symbols.gmt"


def paper_size_model(genes: list[str], seed: int = 0):
    """A FinalModel wrapping a random-weight 2000-1000-500 network over ``genes`` and a fitted scaler."""
    import torch
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from radplug.models.mlp import MLPClassifier, build_network
    from radplug.training.final import FinalModel

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_network(len(genes), 3, 2000, 3, "relu", 0.4)
    with torch.no_grad():               # non-trivial batch-norm statistics, as after training
        for m in net:
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    net.eval()
    est = MLPClassifier(first_layer=2000, n_layers=3)
    est.network_, est.classes_, est.task_, est.n_features_in_ = net, np.arange(3), "multiclass", len(genes)
    scaler = StandardScaler().fit(rng.normal(7.0, 1.0, size=(50, len(genes))).astype(np.float32))
    pipe = Pipeline([("scale", scaler), ("model", est)])
    return FinalModel("histology", "mlp", "bench", {}, ["ADC", "SCC", "other"], genes, pipe, seed, math.nan)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gmt", default=str(GMT))
    ap.add_argument("--n-genes", type=int, default=21766)
    ap.add_argument("--n-patients", type=int, default=89)
    ap.add_argument("--n-literal", type=int, default=24, help="sets in the literal loop's sample")
    ap.add_argument("--threads", type=int, default=None, help="PyTorch CPU threads (default: PyTorch's)")
    ap.add_argument("--memory-mb", type=float, default=512)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args(argv)
    if not Path(a.gmt).exists():
        print(f"{a.gmt} not found: this benchmark needs ../shared/data/msigdb", file=sys.stderr)
        return 2

    import torch

    from radplug.explain.masking import MaskingEngine
    from radplug.genesets import prepare_gene_sets, read_gene_sets

    if a.threads:
        torch.set_num_threads(a.threads)
    long = read_gene_sets(a.gmt)
    universe = sorted(long["gene"].unique())
    genes = universe + [f"PAD{i:05d}" for i in range(max(0, a.n_genes - len(universe)))]
    prep = prepare_gene_sets(long, genes, min_present=1, max_size=10**6)
    names = list(prep.members)
    sets = [prep.members[n] for n in names]
    sizes = np.array([len(s) for s in sets])
    model = paper_size_model(genes)
    X = np.random.default_rng(1).normal(7.0, 1.0, size=(a.n_patients, len(genes))).astype(np.float32)
    engine = MaskingEngine(model, device=a.device, memory_mb=a.memory_mb)

    print(f"gene sets: {len(sets)} (sizes {sizes.min()}-{sizes.max()}, median {int(np.median(sizes))}); "
          f"inputs {len(genes)}; network 2000-1000-500-3; patients {a.n_patients}")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {a.device}, "
          f"cpus {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}")

    t0 = time.perf_counter()
    fast = engine.probabilities(X, sets)
    t_fast = time.perf_counter() - t0
    load_fast = os.getloadavg()[0]

    sample = np.random.default_rng(2).choice(len(sets), size=min(a.n_literal, len(sets)), replace=False)
    t0 = time.perf_counter()
    literal = engine.literal_probabilities(X, [sets[i] for i in sample])
    t_lit = time.perf_counter() - t0
    load_lit = os.getloadavg()[0]

    rate_fast, rate_lit = len(sets) / t_fast, len(sample) / t_lit
    diff = float(np.abs(fast[sample] - literal).max())
    print(f"engine : {len(sets)} sets in {t_fast:.1f} s = {rate_fast:.1f} sets/s "
          f"(load average {load_fast:.2f})")
    print(f"literal: {len(sample)} sets in {t_lit:.1f} s = {rate_lit:.2f} sets/s "
          f"(load average {load_lit:.2f}); "
          f"all {len(sets)} sets would take {len(sets) / rate_lit:.0f} s")
    print(f"speed-up: {rate_fast / rate_lit:.1f}x; max |engine - literal| on the sample: {diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
