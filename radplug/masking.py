"""Gene-set masking (Smedley et al.): keep one set's genes, set all others to zero after standardization
(the training mean), push the cohort through the trained model and score AUC/AP per class.

The engine is exact and fast for networks whose first layer is linear: a set's first-layer activations
depend only on its genes' columns, so many sets are processed in one batched matrix product over
gathered columns, then the rest of the network runs on (sets x patients) rows at once. Other models
fall back to the literal zero-and-predict loop.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from radplug.final import FinalModel, class_note

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
    """Average precision of each row, as scikit-learn's ``average_precision_score`` (tied scores form one
    threshold: every positive in a tie group gets the precision at the end of the group)."""
    n_pos = int(y.sum())
    if n_pos == 0:
        return np.full(scores.shape[0], np.nan)
    n = scores.shape[1]
    order = np.argsort(-scores, axis=1, kind="stable")
    s = np.take_along_axis(scores, order, axis=1)
    hits = y[order]
    tp = np.cumsum(hits, axis=1)
    is_end = np.ones_like(s, dtype=bool)
    is_end[:, :-1] = s[:, 1:] != s[:, :-1]
    end_pos = np.where(is_end, np.arange(n)[None, :], n)
    end_pos = np.minimum.accumulate(end_pos[:, ::-1], axis=1)[:, ::-1]
    precision_end = np.take_along_axis(tp, end_pos, axis=1) / (end_pos + 1)
    return (precision_end * hits).sum(axis=1) / n_pos


# --------------------------------------------------------------------------- the engine
def padded_index(sets: list[np.ndarray], pad: int) -> np.ndarray:
    """(len(sets), max size) int64 matrix of each set's column indices, padded with ``pad`` (no Python
    loop over sets: one concatenation and one scatter)."""
    lens = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    out = np.full((len(sets), int(lens.max()) if len(sets) else 0), pad, dtype=np.int64)
    if lens.sum():
        flat = np.concatenate([np.asarray(s, dtype=np.int64) for s in sets])
        rows = np.repeat(np.arange(len(sets)), lens)
        cols = np.arange(len(flat)) - np.repeat(np.cumsum(lens) - lens, lens)
        out[rows, cols] = flat
    return out


def fold_network(net) -> list[tuple] | None:
    """The network as a list of ops for inference: ``("linear", W, b)`` with any eval-mode BatchNorm1d that
    follows a linear layer folded into it, ``("act", in-place function)``; dropout is skipped (identity in
    eval mode). None when the network holds a layer type this does not know."""
    import torch
    from torch import nn

    acts = {nn.ReLU: torch.relu_, nn.Sigmoid: torch.sigmoid_, nn.Tanh: torch.tanh_}
    ops: list[list] = []
    for m in net:
        if isinstance(m, nn.Linear):
            bias = m.bias.detach() if m.bias is not None else torch.zeros(m.out_features)
            ops.append(["linear", m.weight.detach().clone(), bias.clone()])
        elif isinstance(m, nn.BatchNorm1d) and ops and ops[-1][0] == "linear" and m.running_mean is not None:
            scale = 1.0 / torch.sqrt(m.running_var.detach() + m.eps)
            shift = -m.running_mean.detach() * scale
            if m.weight is not None:
                scale, shift = scale * m.weight.detach(), shift * m.weight.detach() + m.bias.detach()
            ops[-1][1] = ops[-1][1] * scale[:, None]
            ops[-1][2] = ops[-1][2] * scale + shift
        elif type(m) in acts:
            ops.append(["act", acts[type(m)]])
        elif isinstance(m, nn.Dropout):
            continue
        else:
            return None
    return [tuple(o) for o in ops] if ops and ops[0][0] == "linear" else None


class MaskingEngine:
    """Masked predictions of one final model for many gene sets.

    ``probabilities(X, sets)`` returns (n_sets, n_patients, n_classes); ``sets`` are arrays of column
    indices into ``model.genes``. For networks whose first layer is linear (radplug's MLPs) the engine is
    exact and fast: the first-layer pre-activation of a masked input is ``bias + Z[:, set] @ W[:, set].T``,
    so each set only needs its own gathered columns; batches of sets (sorted by size, padded with a zero
    column) go through one batched matrix product, then the rest of the network runs on all
    (set x patient) rows of the batch at once. ``memory_mb`` bounds the tensors of one batch (gathered
    weights and inputs, first-layer output, the widest later activation); ``device`` is ``cpu`` or
    ``cuda``; ``threads`` sets PyTorch's CPU threads (None: leave as is). Other models fall back to the
    literal zero-and-predict loop.
    """

    def __init__(self, model: FinalModel, device: str = "cpu", memory_mb: float = 512,
                 threads: int | None = None):
        from radplug.models.mlp import resolve_device

        self.model = model
        self.device = resolve_device(device)
        self.memory_mb = memory_mb
        self.scaler = model.pipeline.named_steps["scale"]
        self.estimator = model.pipeline.named_steps["model"]
        self.fast = False
        net = getattr(self.estimator, "network_", None)
        if net is not None:
            import torch

            if threads:
                torch.set_num_threads(int(threads))
            first = net[0]
            self.fast = isinstance(first, torch.nn.Linear)
            if self.fast:
                # the engine's own float32 copy on the device (the model stays untouched); eval-mode batch
                # norm folded into the linear layer before it, dropout dropped (identity in eval mode)
                ops = fold_network(net)
                if ops is None:      # unknown layer types: keep the modules as they are
                    ops = [("linear", first.weight.detach().clone(), first.bias.detach().clone()),
                           ("module", copy.deepcopy(net[1:]).eval())]
                f32 = {"device": self.device, "dtype": torch.float32}
                self._W = ops[0][1].to(**f32).contiguous()                     # hidden x genes
                self._b = ops[0][2].to(**f32)
                self._ops = []
                for kind, *rest in ops[1:]:
                    if kind == "linear":
                        self._ops.append((kind, rest[0].to(**f32), rest[1].to(**f32)))
                    else:
                        self._ops.append((kind, rest[0].to(**f32) if kind == "module" else rest[0]))
                self._widths = [m.out_features for m in net if isinstance(m, torch.nn.Linear)]

    def standardize(self, X: np.ndarray) -> np.ndarray:
        """Per-gene standardization fitted on the training cohort (masked genes become 0 = training mean)."""
        return self.scaler.transform(np.asarray(X, dtype=np.float32)).astype(np.float32)

    def _to_model_classes(self, p: np.ndarray) -> np.ndarray:
        est_classes = np.asarray(self.estimator.classes_).astype(int)
        k = len(self.model.classes)
        if p.shape[-1] == k and np.array_equal(est_classes, np.arange(k)):
            return p
        out = np.zeros(p.shape[:-1] + (k,))
        out[..., est_classes] = p
        return out

    def _predict_standardized(self, Z: np.ndarray) -> np.ndarray:
        if hasattr(self.estimator, "forward_logits"):
            return self.estimator.logits_to_proba(self.estimator.forward_logits(Z).astype(np.float64))
        return self.estimator.predict_proba(Z)

    # literal reference: zero the other genes and run the whole model
    def literal_probabilities(self, X: np.ndarray, sets: list[np.ndarray]) -> np.ndarray:
        """The definition: for each set, zero every other standardized gene and run the whole model."""
        Z = self.standardize(X)
        out = []
        for s in sets:
            Zm = np.zeros_like(Z)
            Zm[:, s] = Z[:, s]
            out.append(self._to_model_classes(self._predict_standardized(Zm)))
        return np.stack(out) if out else np.empty((0, Z.shape[0], len(self.model.classes)))

    def _stacked_literal(self, Z: np.ndarray, sets: list[np.ndarray], permute: np.ndarray | None) -> np.ndarray:
        """Models without a linear first layer: the literal definition (mask, or permute, each set's genes), with
        the masked copies of many sets stacked into one predict_proba call per memory-bounded chunk."""
        n, g = Z.shape
        out = np.empty((len(sets), n, len(self.model.classes)))
        chunk = max(1, int(self.memory_mb * 2**20 // (4 * n * g)))
        source = Z[permute] if permute is not None else Z
        for start in range(0, len(sets), chunk):
            block = sets[start:start + chunk]
            stacked = np.zeros((len(block), n, g), dtype=np.float32) if permute is None \
                else np.broadcast_to(Z, (len(block), n, g)).copy()
            for i, cols in enumerate(block):
                stacked[i][:, cols] = source[:, cols]
            proba = self._predict_standardized(stacked.reshape(-1, g))
            out[start:start + len(block)] = self._to_model_classes(proba).reshape(len(block), n, -1)
        return out

    def _batches(self, sizes: np.ndarray, n: int) -> Iterator[np.ndarray]:
        """Batches of set indices (ascending size) whose tensors fit in ``memory_mb``."""
        hidden = self._W.shape[0]
        widest_rest = max(self._widths[1:] + [1])
        budget = int(self.memory_mb * 2**20 / 4)                     # float32 elements
        order = np.argsort(sizes, kind="stable")
        start = 0
        while start < len(order):
            kmax = np.maximum(sizes[order[start:]], 1)
            # per-set cost if the batch ended at each candidate position (kmax is non-decreasing)
            per_set = kmax * hidden + n * kmax + n * (2 * hidden + widest_rest)
            count = np.arange(1, len(kmax) + 1)
            fits = count * per_set <= budget
            take = max(1, int(fits.sum()) if fits.all() else int(np.argmin(fits)))
            yield order[start:start + take]
            start += take

    def first_layer(self, Zin: np.ndarray, sets: list[np.ndarray]) -> Iterator[tuple[np.ndarray, object]]:
        """Batches of sets: sum over the set's genes g of ``Zin[:, g] * W[:, g]``, (batch, n, hidden)."""
        import torch

        hidden, n_genes = self._W.shape
        Wt = torch.cat([self._W.T, torch.zeros(1, hidden, device=self.device)])          # genes+1 x hidden
        Zt = torch.cat([torch.as_tensor(np.ascontiguousarray(Zin, dtype=np.float32)).to(self.device),
                        torch.zeros(Zin.shape[0], 1, device=self.device)], dim=1)        # n x genes+1
        ZtT = Zt.T.contiguous()                                                          # genes+1 x n
        sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
        for batch in self._batches(sizes, Zin.shape[0]):
            idx = torch.from_numpy(padded_index([sets[i] for i in batch], n_genes)).to(self.device)
            Xg = ZtT[idx].transpose(1, 2)                                    # batch x n x kmax
            Wg = Wt[idx]                                                     # batch x kmax x hidden
            yield batch, torch.bmm(Xg, Wg)

    def _rest(self, H1) -> np.ndarray:
        """The network after its first linear layer on (batch, n, hidden) pre-activations; float64 out."""
        import torch

        b, n, h = H1.shape
        x = H1.reshape(b * n, h)
        for op in self._ops:
            x = torch.addmm(op[2], x, op[1].T) if op[0] == "linear" else op[1](x)
        return x.reshape(b, n, -1).double().cpu().numpy()

    def probabilities(self, X: np.ndarray, sets: list[np.ndarray]) -> np.ndarray:
        """Masked class probabilities, (n_sets, n_patients, n_classes)."""
        if not self.fast:
            return self._stacked_literal(self.standardize(X), sets, permute=None)
        import torch

        Z = self.standardize(X)
        out = np.empty((len(sets), Z.shape[0], len(self.model.classes)))
        with torch.inference_mode():
            for batch, contrib in self.first_layer(Z, sets):
                contrib += self._b
                out[batch] = self._to_model_classes(self.estimator.logits_to_proba(self._rest(contrib)))
        return out

    def permuted_probabilities(self, X: np.ndarray, sets: list[np.ndarray], seed: int = 0) -> np.ndarray:
        """Probabilities after shuffling each set's genes jointly across patients (permutation importance).

        Exact for linear first layers too: the permuted input differs from the full one by ``D = Z[perm] - Z``
        on the set's columns only, so the first layer is ``W Z + b + D[:, set] @ W[:, set].T``."""
        Z = self.standardize(X)
        perm = np.random.default_rng(seed).permutation(Z.shape[0])
        if not self.fast:
            return self._stacked_literal(Z, sets, permute=perm)
        import torch

        D = Z[perm] - Z
        out = np.empty((len(sets), Z.shape[0], len(self.model.classes)))
        with torch.inference_mode():
            H_full = torch.as_tensor(Z).to(self.device) @ self._W.T + self._b
            for batch, contrib in self.first_layer(D, sets):
                contrib += H_full
                out[batch] = self._to_model_classes(self.estimator.logits_to_proba(self._rest(contrib)))
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


def random_sets(n_genes: int, sizes: np.ndarray, n_random: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n_random`` random gene sets (column indices, without replacement) for each size in ``sizes``."""
    out = []
    for sz in sizes:
        keys = rng.random((n_random, n_genes))
        out.extend(np.argpartition(keys, int(sz) - 1, axis=1)[:, : int(sz)])
    return out


def mask_model(model: FinalModel, expression: pd.DataFrame, targets: pd.DataFrame,
               members: dict[str, np.ndarray], coverage: pd.DataFrame, source: str, n_random: int = 100,
               max_null_sizes: int = 25, seed: int = 0, device: str = "cpu",
               cohorts: tuple[str, ...] = ("test", "train"), null_cohorts: tuple[str, ...] = ("test",),
               threads: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Masking scores (AUC, AP and rank per cohort, class and set) for every set of a source, and the
    size-matched random-set null distribution.

    ``members`` gives each set's column indices into ``model.genes`` (all of them measured). The null draws
    ``n_random`` random sets from the model's genes per size; when a source has more than ``max_null_sizes``
    distinct set sizes, sizes are grouped into that many quantile bins and each bin's median size is used.
    """
    from radplug.binarize import encode_target

    engine = MaskingEngine(model, device=device, threads=threads)
    names = list(members)
    sets = [members[s] for s in names]
    sizes = np.array([len(s) for s in sets])
    size_of_bin, bin_of_set = null_sizes(sizes, max_null_sizes)
    rng = np.random.default_rng(seed)
    null_sets = random_sets(len(model.genes), size_of_bin, n_random, rng) if n_random > 0 else []
    null_size = np.repeat(size_of_bin, n_random)
    tgt = targets.set_index("sample_id")
    cov = coverage.set_index("gene_set")
    real_rows, null_rows = [], []
    for cohort in cohorts:
        ids = tgt.index[tgt["cohort"] == cohort]
        mask, y = encode_target(tgt.loc[ids, model.target], model.classes)
        ids = ids[mask]
        if len(ids) < 4 or len(np.unique(y)) < 2:
            log.warning("masking %s on %s: too few labelled samples or a single class; skipped",
                        model.target, cohort)
            continue
        X = expression.loc[ids, model.genes].to_numpy(dtype=np.float32)
        t0 = time.time()
        proba = engine.probabilities(X, sets)
        t1 = time.time()
        log.info("masked %d %s sets for %s on %s cohort in %.1fs (%.0f sets/s)", len(sets), source,
                 model.target, cohort, t1 - t0, len(sets) / max(t1 - t0, 1e-9))
        notes = {label: class_note(y, k, model.classes, cohort) for label, k in class_columns(model)}
        for sc in score_sets(proba, y, model):
            part = pd.DataFrame({
                "target": model.target, "family": model.family, "source": source, "cohort": cohort,
                "class": sc["class"], "gene_set": names, "auc": sc["auc"], "ap": sc["ap"],
                "n_genes": cov.loc[names, "n_genes"].to_numpy(), "n_present": sizes,
                "coverage": cov.loc[names, "coverage"].to_numpy(), "null_size": size_of_bin[bin_of_set],
                "n_patients": len(ids), "note": notes[sc["class"]]})
            part["rank"] = part["auc"].rank(ascending=False, method="min").astype("Int64")
            real_rows.append(part)
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
    """P-values for masking AUCs against random gene sets of matched size, BH q-values and ranks.

    Per (source, target, cohort, class):

    - ``p_size``: plain empirical p-value against the random sets of the set's own size bin,
      ``(1 + #{null AUC >= observed}) / (1 + #null)``.
    - ``p_value`` (the one ``q_value`` uses): the same comparison with two refinements. (1) Size: a set
      rarely has exactly its bin's size, so the observed AUC is standardized by the null mean and SD
      interpolated at the set's own size (linear in log size between bin sizes, constant beyond them) and
      compared with the bin's null standardized by its own mean and SD. (2) Resolution: where fewer than 10
      random sets reach the observation, the p-value comes from a generalized Pareto tail fitted to the
      bin's largest null values (``upper_tail_p_values``; ``p_tail`` marks these rows), so that strong
      associations can pass BH over thousands of sets without millions of random sets.
    - ``q_value``: Benjamini-Hochberg over ``p_value`` within the group (one source, target, cohort, class).
    - ``rank``: 1 = highest AUC in the group; ``n_null``: random sets in the set's own bin.

    Cohorts without a null (e.g. training) get NaN p-values but still a rank.
    """
    from radplug.metrics import benjamini_hochberg, upper_tail_p_values

    keys = ["source", "target", "cohort", "class"]
    null_groups = {k: g for k, g in null.groupby(keys, sort=False)} if len(null) else {}
    out = []
    for key, g in real.groupby(keys, sort=True):
        g = g.copy()
        nul = null_groups.get(key)
        p_size = np.full(len(g), np.nan)
        p = np.full(len(g), np.nan)
        tail = np.zeros(len(g), dtype=bool)
        n_null = np.zeros(len(g), dtype=int)
        if nul is not None:
            bins = {}
            for size, ng in nul.groupby("null_size", sort=True):
                vals = np.sort(ng["auc"].dropna().to_numpy())
                if len(vals) >= 2:
                    bins[float(size)] = (vals, vals.mean(), max(vals.std(ddof=1), 1e-9))
            if bins:
                sizes = np.array(sorted(bins))
                own = np.log(np.maximum(g["n_present"].to_numpy(dtype=float), 1))
                mu_at = np.interp(own, np.log(sizes), [bins[s][1] for s in sizes])
                sd_at = np.interp(own, np.log(sizes), [bins[s][2] for s in sizes])
                z_obs = (g["auc"].to_numpy() - mu_at) / sd_at
                set_bin = g["null_size"].to_numpy(dtype=float)
                for size, (vals, mu, sd) in bins.items():
                    sel = set_bin == size
                    if not sel.any():
                        continue
                    obs = g["auc"].to_numpy()[sel]
                    p_size[sel] = upper_tail_p_values(vals, obs, min_exceedances=0)[0]      # plain empirical
                    p[sel], tail[sel] = upper_tail_p_values((vals - mu) / sd, z_obs[sel] - 1e-12)
                    n_null[sel] = len(vals)
        g["n_null"] = n_null
        g["p_size"] = p_size
        g["p_value"] = p
        g["p_tail"] = tail
        g["q_value"] = benjamini_hochberg(p)
        g["rank"] = g["auc"].rank(ascending=False, method="min").astype("Int64")
        out.append(g)
    if not out:
        return real.assign(n_null=0, p_size=np.nan, p_value=np.nan, p_tail=False, q_value=np.nan, rank=pd.NA)
    return pd.concat(out, ignore_index=True).sort_values(keys + ["rank"]).reset_index(drop=True)
