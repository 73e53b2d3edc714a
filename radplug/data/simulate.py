"""Synthetic radiogenomic cohorts with planted gene-set -> target associations (the embedded default)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radplug.data.clinical import HISTOLOGY_CLASSES
from radplug.data.radiomics import AERTS_NAMES, GROUPS
from radplug.genesets import read_gene_sets
from radplug.io import write_parquet

log = logging.getLogger(__name__)

# Per-gene loadings on the module's activity: uniform in LOADING_RANGE times the module's strength (and
# ``signal``). Single genes are weak proxies of their module (correlation about 0.2-0.5 at signal 1, as in
# real pathways), so a set's signal comes from its genes together and a random set that holds a few planted
# genes stays well below the planted set: the competitive random-set null can then call it.
LOADING_RANGE = (0.2, 0.6)
PLANTED_STRENGTH = 1.0
DECOY_STRENGTH = 0.8
# how strongly a planted module's activity drives its target (x signal): histology logit slope per class,
# radiomic feature slope (against unit noise)
HISTOLOGY_EFFECT = 3.75
RADIOMIC_EFFECT = 2.4
STAGES = ("I", "II", "III", "other")


@dataclass
class SimulatedCohort:
    expression: pd.DataFrame      # samples x genes (log2 scale)
    clinical: pd.DataFrame        # sample_id, cohort, histology, stage
    radiomics: pd.DataFrame       # sample_id + continuous radiomic features
    gene_sets: pd.DataFrame       # long table gene_set, gene (planted and decoys)
    ground_truth: pd.DataFrame    # target, class, gene_set, effect


def _gene_names(n: int) -> list[str]:
    return [f"SG{i:05d}" for i in range(1, n + 1)]


def _draw_sets(rng: np.random.Generator, genes: list[str], n_sets: int, min_size: int, max_size: int) -> dict:
    """Random gene sets with log-uniform sizes; genes already used are less likely to be drawn again, so
    sets overlap a little (as real collections do) without every gene belonging to several sets."""
    sizes = np.clip(np.round(np.exp(rng.uniform(np.log(min_size), np.log(max_size), n_sets))), min_size, max_size)
    used = np.zeros(len(genes))
    sets = {}
    for i, k in enumerate(sizes.astype(int)):
        weight = 1.0 / (1.0 + 4.0 * used)
        pick = rng.choice(len(genes), size=k, replace=False, p=weight / weight.sum())
        used[pick] += 1
        sets[f"SIM_SET_{i + 1:03d}"] = [genes[j] for j in pick]
    return sets


#: The paper's 101 radiomic features in its 7 groups (shape, stats, GLCM, GLSZM, RLGL, LoG, wavelet).
PAPER_GROUP_SIZES = (10, 22, 7, 10, 12, 9, 31)


def feature_names(group: str, n: int) -> list[str]:
    """``n`` Aerts-style feature names of ``group``: its named features, then numbered variants of them
    (``shape_Compactness1_r2``), which parse to the same group."""
    base = AERTS_NAMES[group]
    return [base[i % len(base)] + (f"_r{i // len(base) + 1}" if i >= len(base) else "") for i in range(n)]


def simulate_cohort(n_train: int = 262, n_test: int = 89, n_genes: int = 2000, n_sets: int = 60,
                    features_per_group: int = 3, gmt: str | None = None, signal: float = 1.0,
                    seed: int = 0, group_sizes: tuple[int, ...] | None = None) -> SimulatedCohort:
    """Simulate train and test cohorts.

    Expression: each gene set is a co-expression module with a latent activity per patient;
    log2 levels = gene mean + loadings x module activities + noise; the test cohort has a per-gene
    batch shift. Histology (ADC/SCC/other) is driven by three planted sets; in each radiomic group
    the first feature is driven by one planted set; one feature per group (when there are 3 or
    more) is heavy-tailed with a rare high class, which binarization should drop. ``group_sizes`` (one count per
    group, e.g. ``PAPER_GROUP_SIZES``) replaces ``features_per_group`` with the paper's group sizes.
    With ``gmt``, the gene universe and the sets come from that file (planted sets picked among
    sets of 15-200 genes, the others are decoys).
    """
    if n_train < 20 or n_test < 10:
        raise ValueError("simulate needs at least 20 training and 10 test patients")
    if group_sizes is None:
        if not 1 <= features_per_group <= 6:
            raise ValueError("features_per_group must be between 1 and 6")
        group_sizes = (features_per_group,) * len(GROUPS)
    if len(group_sizes) != len(GROUPS) or min(group_sizes) < 1:
        raise ValueError(f"group_sizes needs {len(GROUPS)} positive counts (groups {', '.join(GROUPS)}), "
                         f"got {list(group_sizes)}")
    rng = np.random.default_rng(seed)
    if gmt:
        long = read_gene_sets(gmt)
        genes = sorted(long["gene"].unique())
        sets = {k: list(v) for k, v in long.groupby("gene_set")["gene"]}
        extra = max(0, n_genes - len(genes))
        genes = genes + [f"SIMNOISE{i:05d}" for i in range(extra)]
    else:
        genes = _gene_names(n_genes)
        sets = _draw_sets(rng, genes, n_sets, 15, 120)
    n = n_train + n_test
    gidx = {g: i for i, g in enumerate(genes)}
    set_names = sorted(sets)

    # planted sets: 3 for histology + 1 per radiomic group, distinct, of moderate size
    n_planted = 3 + len(GROUPS)
    eligible = [s for s in set_names if 15 <= len(sets[s]) <= 200]
    if len(eligible) < n_planted:
        raise ValueError(f"need at least {n_planted} gene sets of 15-200 genes to plant associations")
    planted = list(rng.choice(eligible, size=n_planted, replace=False))

    # module activities and expression
    activity = pd.DataFrame(rng.normal(size=(n, len(set_names))), columns=set_names)
    mu = rng.normal(7.0, 1.5, size=len(genes))
    sd = rng.uniform(0.3, 0.8, size=len(genes))
    z = rng.normal(size=(n, len(genes)))
    for s in set_names:
        cols = np.fromiter((gidx[g] for g in sets[s] if g in gidx), dtype=np.int64)
        strength = PLANTED_STRENGTH if s in planted else DECOY_STRENGTH
        load = rng.uniform(*LOADING_RANGE, size=len(cols)) * strength * signal
        z[:, cols] += activity[s].to_numpy()[:, None] * load[None, :]
    expr = mu[None, :] + sd[None, :] * z
    cohort = np.array(["train"] * n_train + ["test"] * n_test)
    expr[cohort == "test"] += rng.normal(0.0, 0.25, size=len(genes))[None, :]   # batch shift
    ids = [f"TRAIN{i + 1:04d}" for i in range(n_train)] + [f"TEST{i + 1:04d}" for i in range(n_test)]
    expression = pd.DataFrame(expr.astype(np.float32), index=pd.Index(ids, name="sample_id"), columns=genes)

    truth = []
    # histology: softmax over the three planted activities with class priors
    hist_sets = dict(zip(HISTOLOGY_CLASSES, planted[:3], strict=True))
    logits = np.stack([HISTOLOGY_EFFECT * signal * activity[hist_sets[c]].to_numpy() for c in HISTOLOGY_CLASSES],
                      axis=1)
    logits += np.log(np.array([0.5, 0.3, 0.2]))[None, :]
    prob = np.exp(logits - logits.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    hist = np.array([rng.choice(HISTOLOGY_CLASSES, p=p) for p in prob], dtype=object)
    hist[rng.random(n) < 0.05] = None   # some histology unknown, as in real cohorts
    for c in HISTOLOGY_CLASSES:
        truth.append({"target": "histology", "class": c, "gene_set": hist_sets[c], "effect": HISTOLOGY_EFFECT * signal})
    stage = rng.choice(STAGES, size=n, p=[0.45, 0.2, 0.25, 0.1])  # not driven by expression
    clinical = pd.DataFrame({"sample_id": ids, "cohort": cohort, "histology": hist, "stage": stage})

    rad = {"sample_id": ids}
    for gi, group in enumerate(GROUPS):
        names = feature_names(group, group_sizes[gi])
        for fi, name in enumerate(names):
            noise = rng.normal(size=n)
            if fi == 0:
                driver = planted[3 + gi]
                values = RADIOMIC_EFFECT * signal * activity[driver].to_numpy() + noise
                truth.append({"target": name, "class": "high", "gene_set": driver, "effect": RADIOMIC_EFFECT * signal})
            elif fi == 2:
                values = np.where(rng.random(n) < 0.05, rng.normal(8, 1, n), noise)   # rare class
            else:
                values = noise
            rad[name] = (values * 10 + 100).astype(np.float64)
    radiomics = pd.DataFrame(rad)
    long = pd.DataFrame([(s, g) for s in set_names for g in sets[s]], columns=["gene_set", "gene"])
    return SimulatedCohort(expression, clinical, radiomics, long, pd.DataFrame(truth))


def write_simulated(sim: SimulatedCohort, outdir: str | Path, seed: int) -> Path:
    """Write per-cohort files and a samplesheet, the same layout a user would give to --input."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for role in ("train", "test"):
        ids = sim.clinical.loc[sim.clinical["cohort"] == role, "sample_id"]
        name = f"sim_{role}"
        write_parquet(sim.expression.loc[ids].reset_index(), outdir / f"{name}_expression.parquet", "simulate",
                      seed=seed)
        write_parquet(sim.radiomics[sim.radiomics["sample_id"].isin(ids)], outdir / f"{name}_radiomics.parquet",
                      "simulate", seed=seed)
        write_parquet(sim.clinical[sim.clinical["cohort"] == role].drop(columns="cohort"),
                      outdir / f"{name}_clinical.parquet", "simulate", seed=seed)
        rows.append({"cohort": name, "role": role, "expression": f"{name}_expression.parquet",
                     "radiomics": f"{name}_radiomics.parquet", "clinical": f"{name}_clinical.parquet"})
    pd.DataFrame(rows).to_csv(outdir / "samplesheet.csv", index=False)
    with open(outdir / "genesets.gmt", "w") as fh:
        for s, genes in sim.gene_sets.groupby("gene_set", sort=True)["gene"]:
            fh.write(s + "\tsimulated module\t" + "\t".join(genes) + "\n")
    write_parquet(sim.ground_truth, outdir / "ground_truth.parquet", "simulate", seed=seed)
    log.info("simulated %d train + %d test patients, %d genes, %d gene sets -> %s",
             (sim.clinical.cohort == "train").sum(), (sim.clinical.cohort == "test").sum(),
             sim.expression.shape[1], sim.gene_sets.gene_set.nunique(), outdir)
    return outdir
