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

from radplug.training.final import FinalModel, class_note

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
    return random_sets_of_sizes(n_genes, np.repeat(np.asarray(sizes, dtype=int), n_random), rng)


def random_sets_of_sizes(n_genes: int, sizes: np.ndarray, rng: np.random.Generator,
                         chunk_elements: int = 2**23) -> list[np.ndarray]:
    """One random gene set (column indices, without replacement) per entry of ``sizes``, in that order."""
    sizes = np.asarray(sizes, dtype=int)
    out: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(sizes)
    step = max(1, chunk_elements // max(n_genes, 1))
    for sz in np.unique(sizes):
        where = np.flatnonzero(sizes == sz)
        for lo in range(0, len(where), step):
            part = where[lo:lo + step]
            keys = rng.random((len(part), n_genes))
            picks = np.argpartition(keys, int(sz) - 1, axis=1)[:, : int(sz)]
            for i, row in zip(part, picks, strict=True):
                out[i] = row
    return out


#: Columns of the per-set significance written by MASK for cohorts with a null (see ``mask_model``).
SEQUENTIAL_COLUMNS = ["p_value", "n_random", "hits", "stop", "null_bin", "null_size"]


def mask_model(model: FinalModel, expression: pd.DataFrame, targets: pd.DataFrame,
               members: dict[str, np.ndarray], coverage: pd.DataFrame, source: str, n_random: int = 200,
               max_null_sizes: int = 10, seed: int = 0, device: str = "cpu",
               cohorts: tuple[str, ...] = ("test", "train"), null_cohorts: tuple[str, ...] = ("test",),
               threads: int | None = None, max_random: int = 10_000, fdr_scope: str = "target",
               fdr: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Masking scores (AUC, AP, rank per cohort, class and set) for every set of a source, with sequential
    Monte Carlo p-values against random gene sets of matched size on the ``null_cohorts``.

    ``members`` gives each set's column indices into ``model.genes`` (all of them measured). Sets are
    grouped into at most ``max_null_sizes`` size bins (every distinct size its own bin when there are no
    more; else size-quantile bins). Each bin draws random sets from the model's genes, with sizes drawn
    from the sizes of the bin's sets still being tested: ``n_random`` first, then more up to ``max_random``
    while a set of the bin is undecided (``radplug.explain.sequential``). With ``fdr_scope="target"`` BH runs over
    this source, target, cohort and class, so sets that cannot pass BH at ``fdr`` stop drawing early; with
    ``"run"`` (BH over the whole run) they do not. Every row also carries ``auc_full``, the unmasked
    model's AUC on the same patients and class. Returns (scores, every random set's scores).
    """
    from radplug.data.binarize import encode_target
    from radplug.explain.sequential import sequential_p_values

    if n_random < 1 or max_random < n_random:
        raise ValueError(f"--mask_n_random must be >= 1 (got {n_random}) and --mask_max_random at least as "
                         f"large (got {max_random})")
    if fdr_scope not in ("target", "run"):
        raise ValueError(f"--mask_fdr_scope must be 'target' or 'run' (got {fdr_scope!r})")
    engine = MaskingEngine(model, device=device, threads=threads)
    names = list(members)
    sets = [members[s] for s in names]
    sizes = np.array([len(s) for s in sets])
    size_of_bin, bin_of_set = null_sizes(sizes, max_null_sizes)
    rng = np.random.default_rng(seed)
    tgt = targets.set_index("sample_id")
    cov = coverage.set_index("gene_set")
    labels = [label for label, _ in class_columns(model)]
    real_rows, null_rows = [], []
    for cohort in cohorts:
        ids = tgt.index[tgt["cohort"] == cohort]
        mask, y = encode_target(tgt.loc[ids, model.target], model.classes)
        ids = ids[mask]
        present = [model.classes[k] for k in np.unique(y)]
        if len(ids) < 4 or len(present) < 2:
            msg = (f"masking {model.target} on the {cohort} cohort: {len(ids)} labelled patients with classes "
                   f"{present}; an AUC needs at least 4 patients and two classes")
            if cohort in null_cohorts:
                raise ValueError(msg + ". Masking significance cannot be computed for this target: drop it "
                                 "from the targets or give the test cohort patients of every class.")
            log.warning("%s; skipped", msg)
            continue
        X = expression.loc[ids, model.genes].to_numpy(dtype=np.float32)
        t0 = time.time()
        proba = engine.probabilities(X, sets)
        full = {sc["class"]: float(sc["auc"][0])
                for sc in score_sets(engine.probabilities(X, [np.arange(len(model.genes))]), y, model)}
        t1 = time.time()
        log.info("masked %d %s sets for %s on %s cohort in %.1fs (%.0f sets/s)", len(sets), source,
                 model.target, cohort, t1 - t0, len(sets) / max(t1 - t0, 1e-9))
        scores = score_sets(proba, y, model)
        notes = {label: class_note(y, k, model.classes, cohort) for label, k in class_columns(model)}
        sig = None
        if cohort in null_cohorts:
            drawn_sizes: dict[int, list[np.ndarray]] = {}

            def draw(b: int, n: int, active: np.ndarray, _X=X, _y=y, _sizes=drawn_sizes) -> np.ndarray:
                pool = sizes[active] if len(active) else sizes[bin_of_set == b]
                sz = rng.choice(pool, size=n)
                _sizes.setdefault(b, []).append(sz)
                nproba = engine.probabilities(_X, random_sets_of_sizes(len(model.genes), sz, rng))
                return np.column_stack([sc["auc"] for sc in score_sets(nproba, _y, model)])

            observed = np.column_stack([sc["auc"] for sc in scores])
            sig = sequential_p_values(observed, bin_of_set, draw, n_initial=n_random, n_max=max_random,
                                      fdr=fdr if fdr_scope == "target" else None,
                                      progress=lambda msg: log.info("%s x %s null: %s", model.target, source, msg))
            for b in np.unique(bin_of_set):
                bsz = np.concatenate(drawn_sizes.get(int(b), [np.empty(0, dtype=int)]))
                for c, label in enumerate(labels):
                    vals = sig.null[b][:, c]
                    null_rows.append(pd.DataFrame({
                        "target": model.target, "source": source, "cohort": cohort, "class": label,
                        "null_bin": int(b), "null_size": bsz[: len(vals)], "draw": np.arange(len(vals)),
                        "auc": vals}))
            log.info("%s x %s: %d random sets drawn in %d size bins (%s)", model.target, source,
                     int(sig.drawn_per_bin.sum()), len(np.unique(bin_of_set)),
                     ", ".join(str(int(n)) for n in sig.drawn_per_bin[np.unique(bin_of_set)]))
        for c, sc in enumerate(scores):
            part = pd.DataFrame({
                "target": model.target, "family": model.family, "source": source, "cohort": cohort,
                "class": sc["class"], "gene_set": names, "auc": sc["auc"], "ap": sc["ap"],
                "auc_full": full[sc["class"]],
                "n_genes": cov.loc[names, "n_genes"].to_numpy(), "n_present": sizes,
                "coverage": cov.loc[names, "coverage"].to_numpy(), "null_bin": bin_of_set,
                "null_size": size_of_bin[bin_of_set], "n_patients": len(ids), "note": notes[sc["class"]]})
            if sig is not None:
                part["p_value"] = sig.p_value[:, c]
                part["n_random"] = sig.n_random[:, c]
                part["hits"] = sig.hits[:, c]
                part["stop"] = sig.stop[:, c].astype(str)
                part["null_drawn"] = sig.drawn_per_bin[bin_of_set]
            else:
                part["p_value"], part["n_random"], part["hits"] = np.nan, 0, 0
                part["stop"], part["null_drawn"] = "", 0
            part["rank"] = part["auc"].rank(ascending=False, method="min").astype("Int64")
            real_rows.append(part)
    real = pd.concat(real_rows, ignore_index=True) if real_rows else pd.DataFrame()
    null = pd.concat(null_rows, ignore_index=True) if null_rows else pd.DataFrame(
        columns=["target", "source", "cohort", "class", "null_bin", "null_size", "draw", "auc"])
    return real, null


def null_sizes(sizes: np.ndarray, max_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(representative size per null bin, bin index of each set): every distinct size when there are at
    most ``max_bins``, else size-quantile bins represented by their median size."""
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


#: Sets whose masked AUC exceeds the unmasked model's by more than this are flagged implausible.
IMPLAUSIBLE_MARGIN = 0.05
#: A (target, cohort, class) is saturated when this share of sets (and at least SATURATED_TIES) reaches the
#: unmasked model's AUC ...
SATURATED_SHARE = 0.25
#: ... provided that AUC is at least this (below it, sets above the model are noise, not saturation) ...
SATURATION_MIN_FULL_AUC = 0.7
#: ... or when the top AUC is tied by at least this many sets (and 5 % of them).
SATURATED_TIES = 3
#: BH families: "target" = one source, target, cohort and class; "run" = every test of one cohort.
FDR_FAMILIES = {"target": ["source", "target", "cohort", "class"], "run": ["cohort"]}


def saturation(g: pd.DataFrame, tol: float = 1e-9) -> tuple[bool, str]:
    """Whether masking can rank the sets of one (source, target, cohort, class) group, and why not."""
    auc = g["auc"].to_numpy(dtype=float)
    auc = auc[~np.isnan(auc)]
    if auc.size == 0:
        return False, ""
    top_tied = int((auc >= auc.max() - tol).sum())
    full = float(g["auc_full"].iloc[0]) if "auc_full" in g else np.nan
    n_reach = int((auc >= full - 0.005).sum()) if full >= SATURATION_MIN_FULL_AUC else 0
    reach = n_reach / auc.size
    if n_reach >= max(SATURATED_TIES, SATURATED_SHARE * auc.size):
        return True, (f"saturated: {reach:.0%} of sets reach the unmasked model's AUC ({full:.3f}); masking "
                      "cannot rank sets for this target (see permutation importance)")
    if top_tied >= max(SATURATED_TIES, 0.05 * auc.size):
        return True, (f"saturated: {top_tied} sets tie at the top AUC ({auc.max():.3f}); masking cannot rank "
                      "sets for this target (see permutation importance)")
    return False, ""


def significance(real: pd.DataFrame, null: pd.DataFrame | None = None, fdr_scope: str = "target",
                 fdr: float = 0.05) -> pd.DataFrame:
    """BH q-values, ranks, saturation and calls for masking rows whose p-values MASK computed.

    - ``q_value``: Benjamini-Hochberg over ``p_value`` within each family (``FDR_FAMILIES[fdr_scope]``;
      by default one source, target, cohort and class). Rows of saturated groups get NaN.
    - ``saturated`` / ``note``: the group's sets cannot be ranked by masking (``saturation``).
    - ``implausible``: the masked AUC exceeds the unmasked model's by more than ``IMPLAUSIBLE_MARGIN``
      (masked inputs far from the training distribution, or a model that the set's genes alone serve
      better): a flag beside the call, said in ``note``, for the reader to weigh.
    - ``call``: "significant" (q < ``fdr``), "not significant", "saturated" (the group cannot be ranked),
      or "untested" (no null for this cohort, e.g. training).
    - ``rank``: 1 = highest AUC in its (source, target, cohort, class) group.
    ``null`` is accepted for symmetry with MASK's outputs and not used: the p-values come with the rows.
    """
    from radplug.metrics import benjamini_hochberg

    if fdr_scope not in FDR_FAMILIES:
        raise ValueError(f"--mask_fdr_scope must be one of {sorted(FDR_FAMILIES)} (got {fdr_scope!r})")
    keys = ["source", "target", "cohort", "class"]
    if real.empty:
        return real.assign(q_value=np.nan, saturated=False, implausible=False, note="", call="", rank=pd.NA)
    out = real.reset_index(drop=True)
    if "auc_full" not in out:
        out["auc_full"] = np.nan
    if "p_value" not in out:
        out["p_value"] = np.nan
    out["saturated"] = False
    out["note"] = out["note"].fillna("").astype(str) if "note" in out else ""
    out["rank"] = out.groupby(keys, sort=False)["auc"].rank(ascending=False, method="min").astype("Int64")
    for idx in out.groupby(keys, sort=False).indices.values():
        sat, why = saturation(out.iloc[idx])
        if sat:
            out.iloc[idx, out.columns.get_loc("saturated")] = True
            out.iloc[idx, out.columns.get_loc("note")] = why
    out["implausible"] = (out["auc"] > out["auc_full"] + IMPLAUSIBLE_MARGIN).fillna(False).astype(bool)
    out["q_value"] = np.nan
    testable = out["p_value"].notna() & ~out["saturated"]
    tested = out[testable]
    for idx in tested.groupby(FDR_FAMILIES[fdr_scope], sort=False).indices.values():
        rows = tested.index[idx]
        out.loc[rows, "q_value"] = benjamini_hochberg(out.loc[rows, "p_value"].to_numpy(dtype=float))
    out.loc[out["implausible"] & (out["note"] == ""), "note"] = (
        f"implausible: masked AUC above the unmasked model's by more than {IMPLAUSIBLE_MARGIN}")
    call = np.where(out["q_value"] < fdr, "significant", "not significant")
    call = np.where(out["saturated"] & out["p_value"].notna(), "saturated", call)
    out["call"] = np.where(out["p_value"].isna(), "untested", call)
    return out.sort_values(keys + ["rank"]).reset_index(drop=True)
