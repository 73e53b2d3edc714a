"""Benchmark: masking significance at GO scale on a paper-size network.

All 7,647 GO BP sets of MSigDB 2023.2 (../shared/data/msigdb/c5.go.bp.v2023.2.Hs.symbols.gmt), a network of
the paper's size (21,766 inputs, 2000-1000-500, 3 classes, random weights), 89 patients. One GO set is
planted: the first-layer weights of every other gene are scaled down (``--damp``), and the patients' classes
are the network's own arg-max class (centred per class), so the planted genes carry the prediction, and the
GO sets that share most of them (its relatives in the GO hierarchy) are strong too, as with a real pathway.
``radplug.explain.masking.mask_model`` masks every set and draws random sets sequentially (defaults: 200 first per
size bin, up to 10,000); ``significance`` adds BH q-values. Prints the wall time of each part, the random
sets drawn per bin, and the q-values of the planted set and its relatives.

    python benchmarks/bench_significance_go.py [--threads 2] [--max-random 10000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_masking import GMT, paper_size_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gmt", default=str(GMT))
    ap.add_argument("--n-genes", type=int, default=21766)
    ap.add_argument("--n-patients", type=int, default=89)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--n-random", type=int, default=200)
    ap.add_argument("--max-random", type=int, default=10_000)
    ap.add_argument("--planted", default="GOBP_REGULATION_OF_ALPHA_BETA_T_CELL_DIFFERENTIATION")
    ap.add_argument("--damp", type=float, default=0.05, help="scale of the other genes' first-layer weights")
    a = ap.parse_args(argv)
    if not Path(a.gmt).exists():
        print(f"{a.gmt} not found: this benchmark needs ../shared/data/msigdb", file=sys.stderr)
        return 2

    import logging

    import torch

    from radplug.explain.masking import MaskingEngine, mask_model, significance
    from radplug.genesets import prepare_gene_sets, read_gene_sets

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")   # progress

    if a.threads:
        torch.set_num_threads(a.threads)
    long = read_gene_sets(a.gmt)
    universe = sorted(long["gene"].unique())
    genes = universe + [f"PAD{i:05d}" for i in range(max(0, a.n_genes - len(universe)))]
    prep = prepare_gene_sets(long, genes, min_present=1, max_size=10**6)        # all 7,647 sets
    model = paper_size_model(genes)
    rng = np.random.default_rng(1)
    X = rng.normal(7.0, 1.0, size=(a.n_patients, len(genes))).astype(np.float32)
    ids = [f"P{i:03d}" for i in range(a.n_patients)]
    expression = pd.DataFrame(X, index=ids, columns=genes)
    if a.planted not in prep.members:
        print(f"{a.planted} is not among the sets", file=sys.stderr)
        return 2
    planted = a.planted
    first = model.pipeline.named_steps["model"].network_[0]
    with torch.no_grad():
        others = np.setdiff1d(np.arange(len(genes)), prep.members[planted])
        first.weight[:, torch.from_numpy(others)] *= a.damp
    full = MaskingEngine(model).probabilities(X, [np.arange(len(genes))])[0]
    labels = np.array(model.classes)[np.argmax(full - full.mean(axis=0), axis=1)]
    shared = {s: len(np.intersect1d(m, prep.members[planted])) / len(prep.members[planted])
              for s, m in prep.members.items()}
    relatives = [s for s, f in shared.items() if f >= 0.8 and s != planted]
    print(f"classes {dict(zip(*np.unique(labels, return_counts=True), strict=True))}; {len(relatives)} other GO sets "
          "hold at least 80 % of the planted set's genes")
    targets = pd.DataFrame({"sample_id": ids, "cohort": "test", "histology": labels})
    print(f"{len(prep.members)} GO BP sets; network {len(genes)}-2000-1000-500-3; "
          f"{a.n_patients} patients; planted set {planted} ({len(prep.members[planted])} genes); "
          f"torch threads {torch.get_num_threads()}")

    t0 = time.perf_counter()
    real, null = mask_model(model, expression, targets, prep.members, prep.coverage, "msigdb_go_bp",
                            n_random=a.n_random, max_random=a.max_random, cohorts=("test",))
    t_mask = time.perf_counter() - t0
    t1 = time.perf_counter()
    res = significance(real)
    t_sig = time.perf_counter() - t1
    drawn = real.drop_duplicates("null_bin")[["null_bin", "null_size", "null_drawn"]].sort_values("null_bin")
    print("random sets drawn per size bin (median size: drawn): "
          + ", ".join(f"{int(r.null_size)}: {int(r.null_drawn)}" for r in drawn.itertuples()))
    print(f"random sets drawn in all: {int(drawn['null_drawn'].sum())}")
    print(f"masking + sequential null: {t_mask:.1f} s; BH and flags: {t_sig:.2f} s; whole step "
          f"{t_mask + t_sig:.1f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    for cls, g in res.groupby("class"):
        row = g[g["gene_set"] == planted].iloc[0]
        rel = g[g["gene_set"].isin(relatives)]
        print(f"class {cls}: planted AUC {row['auc']:.3f} (unmasked model {row['auc_full']:.3f}), rank "
              f"{row['rank']}, p {row['p_value']:.2g} after {row['n_random']} random sets, q {row['q_value']:.3g}, "
              f"{row['call']}; relatives significant {int((rel['call'] == 'significant').sum())} of {len(rel)}; "
              f"{int((g['call'] == 'significant').sum())} sets significant in all, smallest q {g['q_value'].min():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
