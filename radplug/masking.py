"""Gene-set masking (Smedley et al.): keep one set's genes, set all others to zero after standardization
(the training mean), push the cohort through the trained model and score AUC/AP per class.

The engine is exact and fast for networks whose first layer is linear: a set's first-layer activations
depend only on its genes' columns, so many sets are processed in one batched matrix product over
gathered columns, then the rest of the network runs on (sets x patients) rows at once. Other models
fall back to the literal zero-and-predict loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from radplug.final import FinalModel

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- vectorised scores
def auc_rows(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` (sets x patients) against 0/1 labels ``y`` (ties averaged)."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return np.full(scores.shape[0], np.nan)
    ranks = rankdata(scores, axis=1)
    return (ranks[:, y == 1].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def ap_rows(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Average precision of each row (step-wise, as scikit-learn's for untied scores)."""
    n_pos = int(y.sum())
    if n_pos == 0:
        return np.full(scores.shape[0], np.nan)
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = y[order]
    tp = np.cumsum(hits, axis=1)
    precision = tp / np.arange(1, scores.shape[1] + 1)[None, :]
    return (precision * hits).sum(axis=1) / n_pos


# --------------------------------------------------------------------------- the engine
class MaskingEngine:
    """Masked predictions of one final model for many gene sets.

    ``probabilities(X, sets)`` returns (n_sets, n_patients, n_classes); ``sets`` are arrays of column
    indices into ``model.genes``. ``device`` picks CPU or CUDA for networks; ``memory_mb`` bounds the
    gathered first-layer weights of one batch.
    """

    def __init__(self, model: FinalModel, device: str = "cpu", memory_mb: int = 512):
        self.model = model
        self.device = device
        self.memory_mb = memory_mb
        self.scaler = model.pipeline.named_steps["scale"]
        self.estimator = model.pipeline.named_steps["model"]
        self.fast = hasattr(self.estimator, "network_")

    def standardize(self, X: np.ndarray) -> np.ndarray:
        return self.scaler.transform(np.asarray(X, dtype=np.float32)).astype(np.float32)

    def _to_model_classes(self, p: np.ndarray) -> np.ndarray:
        est_classes = np.asarray(self.estimator.classes_).astype(int)
        k = len(self.model.classes)
        if p.shape[-1] == k and np.array_equal(est_classes, np.arange(k)):
            return p
        out = np.zeros(p.shape[:-1] + (k,))
        out[..., est_classes] = p
        return out

    # literal reference: zero the other genes and run the whole model
    def literal_probabilities(self, X: np.ndarray, sets: list[np.ndarray]) -> np.ndarray:
        Z = self.standardize(X)
        out = []
        for s in sets:
            Zm = np.zeros_like(Z)
            Zm[:, s] = Z[:, s]
            out.append(self._to_model_classes(self._predict_standardized(Zm)))
        return np.stack(out)

    def _predict_standardized(self, Z: np.ndarray) -> np.ndarray:
        if self.fast:
            return self.estimator.logits_to_proba(self.estimator.forward_logits(Z).astype(np.float64))
        return self.estimator.predict_proba(Z)

    def _batches(self, sets: list[np.ndarray], hidden: int) -> Iterator[list[int]]:
        order = np.argsort([len(s) for s in sets], kind="stable")
        budget = self.memory_mb * 2**20
        batch: list[int] = []
        for i in order:
            kmax = max(len(sets[j]) for j in batch + [i])
            if batch and (len(batch) + 1) * kmax * hidden * 4 > budget:
                yield batch
                batch = []
            batch.append(int(i))
        if batch:
            yield batch

    def first_layer_contributions(self, Zin: np.ndarray, sets: list[np.ndarray]) -> Iterator[tuple[list[int], object]]:
        """For batches of sets: sum over each set's genes g of Zin[:, g] * W[:, g] -> (batch, n, hidden)."""
        import torch

        net = self.estimator.network_
        first = net[0]
        W = first.weight.detach().to(self.device)                       # hidden x genes
        hidden, n_genes = W.shape
        Wt = torch.cat([W.T, torch.zeros(1, hidden, device=self.device)])   # pad row -> zero
        Zt = torch.cat([torch.as_tensor(Zin, device=self.device),
                        torch.zeros(Zin.shape[0], 1, device=self.device)], dim=1)
        for batch in self._batches(sets, hidden):
            kmax = max(len(sets[i]) for i in batch)
            idx = torch.full((len(batch), kmax), n_genes, dtype=torch.long)
            for r, i in enumerate(batch):
                idx[r, : len(sets[i])] = torch.as_tensor(sets[i])
            idx = idx.to(self.device)
            Xg = Zt[:, idx].permute(1, 0, 2)                              # batch x n x kmax
            Wg = Wt[idx]                                                  # batch x kmax x hidden
            yield batch, torch.bmm(Xg, Wg)

    def _rest(self, H1):
        """Run the network after its first linear layer on (batch, n, hidden) pre-activations."""
        net = self.estimator.network_.to(self.device)
        b, n, h = H1.shape
        out = net[1:](H1.reshape(b * n, h))
        return out.reshape(b, n, -1).double().cpu().numpy()

    def probabilities(self, X: np.ndarray, sets: list[np.ndarray]) -> np.ndarray:
        """Masked class probabilities, (n_sets, n_patients, n_classes)."""
        if not self.fast:
            return self.literal_probabilities(X, sets)
        import torch

        Z = self.standardize(X)
        out = np.empty((len(sets), Z.shape[0], len(self.model.classes)))
        bias = self.estimator.network_[0].bias.detach().to(self.device)
        with torch.no_grad():
            self.estimator.network_.eval()
            for batch, contrib in self.first_layer_contributions(Z, sets):
                logits = self._rest(contrib + bias)
                out[batch] = self._to_model_classes(self.estimator.logits_to_proba(logits))
        self.estimator.network_.cpu()
        return out

    def permuted_probabilities(self, X: np.ndarray, sets: list[np.ndarray], seed: int = 0) -> np.ndarray:
        """Probabilities after shuffling each set's genes jointly across patients (permutation importance)."""
        Z = self.standardize(X)
        perm = np.random.default_rng(seed).permutation(Z.shape[0])
        if not self.fast:
            out = []
            for s in sets:
                Zp = Z.copy()
                Zp[:, s] = Z[perm][:, s]
                out.append(self._to_model_classes(self._predict_standardized(Zp)))
            return np.stack(out)
        import torch

        D = Z[perm] - Z
        out = np.empty((len(sets), Z.shape[0], len(self.model.classes)))
        net = self.estimator.network_
        with torch.no_grad():
            net.eval()
            H_full = net[0](torch.as_tensor(Z).to(self.device))
            for batch, contrib in self.first_layer_contributions(D, sets):
                logits = self._rest(contrib + H_full[None])
                out[batch] = self._to_model_classes(self.estimator.logits_to_proba(logits))
        net.cpu()
        return out


# --------------------------------------------------------------------------- scoring tables
def class_columns(model: FinalModel) -> list[tuple[str, int | None]]:
    """(class label, class index) pairs to score: the positive class for binary targets; every class and
    a micro-average (index None) for multiclass targets."""
    if len(model.classes) == 2:
        return [(model.classes[1], 1)]
    return [(c, k) for k, c in enumerate(model.classes)] + [("micro", None)]


def score_sets(proba: np.ndarray, y: np.ndarray, model: FinalModel) -> list[dict]:
    """AUC/AP per set and class from masked probabilities (sets x n x K) and class codes ``y``."""
    rows = []
    for label, k in class_columns(model):
        if k is None:
            K = proba.shape[2]
            Y = np.zeros((len(y), K), dtype=int)
            Y[np.arange(len(y)), y] = 1
            flat = proba.reshape(proba.shape[0], -1)
            auc, ap = auc_rows(flat, Y.ravel()), ap_rows(flat, Y.ravel())
        else:
            yk = (y == k).astype(int)
            auc, ap = auc_rows(proba[:, :, k], yk), ap_rows(proba[:, :, k], yk)
        rows.append({"class": label, "auc": auc, "ap": ap})
    return rows


def mask_model(model: FinalModel, expression: pd.DataFrame, targets: pd.DataFrame, members: dict[str, np.ndarray],
               coverage: pd.DataFrame, source: str, n_random: int = 100, max_null_sizes: int = 25,
               seed: int = 0, device: str = "cpu", cohorts: tuple[str, ...] = ("test", "train"),
               null_cohorts: tuple[str, ...] = ("test",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Masking scores for every set of a source, and the size-matched random-set null distribution.

    ``members`` gives each set's column indices into ``model.genes``. The null draws ``n_random`` random
    sets from the model's genes per size; when a source has more than ``max_null_sizes`` distinct set sizes,
    sizes are grouped into that many quantile bins and each bin's median size is used.
    """
    from radplug.binarize import encode_target

    engine = MaskingEngine(model, device=device)
    names = list(members)
    sets = [members[s] for s in names]
    sizes = np.array([len(s) for s in sets])
    size_of_bin, bin_of_set = null_sizes(sizes, max_null_sizes)
    rng = np.random.default_rng(seed)
    n_genes = len(model.genes)
    null_sets = [rng.choice(n_genes, size=int(sz), replace=False) for sz in size_of_bin for _ in range(n_random)]
    null_size = np.repeat(size_of_bin, n_random)
    tgt = targets.set_index("sample_id")
    cov = coverage.set_index("gene_set")
    real_rows, null_rows = [], []
    for cohort in cohorts:
        ids = tgt.index[tgt["cohort"] == cohort]
        mask, y = encode_target(tgt.loc[ids, model.target], model.classes)
        ids = ids[mask]
        if len(ids) < 4 or len(np.unique(y)) < 2:
            log.warning("masking %s on %s: too few labelled samples or a single class; skipped", model.target, cohort)
            continue
        X = expression.loc[ids, model.genes].to_numpy(dtype=np.float32)
        t0 = time.time()
        proba = engine.probabilities(X, sets)
        t1 = time.time()
        log.info("masked %d %s sets for %s on %s cohort in %.1fs (%.0f sets/s)", len(sets), source, model.target,
                 cohort, t1 - t0, len(sets) / max(t1 - t0, 1e-9))
        for sc in score_sets(proba, y, model):
            real_rows.append(pd.DataFrame({
                "target": model.target, "family": model.family, "source": source, "cohort": cohort,
                "class": sc["class"], "gene_set": names, "auc": sc["auc"], "ap": sc["ap"],
                "n_genes": cov.loc[names, "n_genes"].to_numpy(), "n_present": sizes,
                "coverage": cov.loc[names, "coverage"].to_numpy(), "null_size": size_of_bin[bin_of_set],
                "n_patients": len(ids)}))
        if n_random > 0 and cohort in null_cohorts:
            nproba = engine.probabilities(X, null_sets)
            for sc in score_sets(nproba, y, model):
                null_rows.append(pd.DataFrame({
                    "target": model.target, "source": source, "cohort": cohort, "class": sc["class"],
                    "null_size": null_size, "auc": sc["auc"], "ap": sc["ap"]}))
            log.info("null: %d random sets in %.1fs", len(null_sets), time.time() - t1)
    real = pd.concat(real_rows, ignore_index=True) if real_rows else pd.DataFrame()
    null = pd.concat(null_rows, ignore_index=True) if null_rows else pd.DataFrame(
        columns=["target", "source", "cohort", "class", "null_size", "auc", "ap"])
    return real, null


def null_sizes(sizes: np.ndarray, max_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(representative size per null bin, bin index of each set)."""
    uniq = np.unique(sizes)
    if len(uniq) <= max_bins:
        return uniq, np.searchsorted(uniq, sizes)
    edges = np.unique(np.quantile(sizes, np.linspace(0, 1, max_bins + 1)))
    bins = np.clip(np.searchsorted(edges, sizes, side="right") - 1, 0, len(edges) - 2)
    reps = np.array([int(np.median(sizes[bins == b])) if (bins == b).any() else int(edges[b])
                     for b in range(len(edges) - 1)])
    used = np.unique(bins)
    remap = {b: i for i, b in enumerate(used)}
    return reps[used], np.array([remap[b] for b in bins])


def significance(real: pd.DataFrame, null: pd.DataFrame) -> pd.DataFrame:
    """p-values for masking AUCs against random gene sets of matched size, BH q-values and ranks.

    Per (source, target, cohort, class): ``p_size`` is the empirical p-value against the random sets of
    the set's own size bin, (1 + #null >= observed) / (1 + #null). ``p_value`` pools every size bin after
    standardizing each bin's null AUCs by its own mean and SD (and the observed AUC by its bin's), which
    gives the resolution of all random sets together; ``q_value`` is Benjamini-Hochberg over ``p_value``
    within the group. Cohorts without a null (e.g. training) get NaN p-values but still a rank.
    """
    from radplug.metrics import benjamini_hochberg

    keys = ["source", "target", "cohort", "class"]
    null_groups = {k: g for k, g in null.groupby(keys, sort=False)} if len(null) else {}
    out = []
    for key, g in real.groupby(keys, sort=True):
        g = g.copy()
        nul = null_groups.get(key)
        p_size = np.full(len(g), np.nan)
        z_obs = np.full(len(g), np.nan)
        pooled: list[np.ndarray] = []
        n_null = 0
        if nul is not None:
            for size, ng in nul.groupby("null_size"):
                vals = np.sort(ng["auc"].dropna().to_numpy())
                if len(vals) < 2:
                    continue
                mu, sd = vals.mean(), max(vals.std(ddof=1), 1e-9)
                pooled.append((vals - mu) / sd)
                sel = (g["null_size"] == size).to_numpy()
                if sel.any():
                    obs = g.loc[sel, "auc"].to_numpy()
                    p_size[sel] = (1 + len(vals) - np.searchsorted(vals, obs, side="left")) / (1 + len(vals))
                    z_obs[sel] = (obs - mu) / sd
        p = np.full(len(g), np.nan)
        if pooled:
            allz = np.sort(np.concatenate(pooled))
            n_null = len(allz)
            ok = ~np.isnan(z_obs)
            p[ok] = (1 + n_null - np.searchsorted(allz, z_obs[ok] - 1e-12, side="left")) / (1 + n_null)
        g["n_null"] = n_null
        g["p_size"] = p_size
        g["p_value"] = p
        g["q_value"] = benjamini_hochberg(p)
        g["rank"] = g["auc"].rank(ascending=False, method="min").astype("Int64")
        out.append(g)
    if not out:
        return real.assign(n_null=0, p_size=np.nan, p_value=np.nan, q_value=np.nan, rank=pd.NA)
    return pd.concat(out, ignore_index=True).sort_values(keys + ["rank"]).reset_index(drop=True)
