"""The one training loop of the network: K independent members ("stacked" networks) trained at once.

Each member is the network of :mod:`radplug.models.mlp` (Linear -> BatchNorm -> activation -> Dropout per
hidden layer) with its own weights, batch-norm statistics, random streams (numpy for splits and shuffling,
a torch generator for initialisation and dropout), stratified validation split, class weights, optimiser
state (step counts included) and early stopping. A step pushes one mini-batch per member through batched
matrix products (``torch.baddbmm``); short and missing batches are masked, and a member whose epoch has
fewer batches, or that has stopped, is not updated. :class:`~radplug.models.mlp.MLPClassifier` trains
through :func:`train_members` with K = 1, so a member of a K-fold stack follows exactly the path of the
unstacked estimator fitted with the same seed (the same stopping and best epoch; floating-point rounding
of the batched products aside). :func:`stacked_fold_proba` trains the K CV folds of one configuration.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from radplug.models.mlp import CLASS_WEIGHTS, MLPClassifier, hidden_widths, resolve_device

log = logging.getLogger(__name__)


def _stacked_module(k: int, n_inputs: int, n_outputs: int, first_layer: int, n_layers: int, activation: str,
                    dropout: float, generators: list):
    import torch
    import torch.nn as nn

    acts = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")

    class StackedMLP(nn.Module):
        """K independent MLPs evaluated together on inputs of shape (K, batch, features)."""

        def __init__(self) -> None:
            super().__init__()
            widths = hidden_widths(first_layer, n_layers)
            dims = [n_inputs, *widths, n_outputs]
            self.weights = nn.ParameterList()
            self.biases = nn.ParameterList()
            self.gammas = nn.ParameterList()
            self.betas = nn.ParameterList()
            inits = [[] for _ in dims[1:]]
            for g in generators:   # member by member: each draws from its own generator only
                for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
                    bound = 1.0 / math.sqrt(a)  # nn.Linear's default initialisation
                    w = torch.empty(a, b).uniform_(-bound, bound, generator=g)
                    inits[i].append((w, torch.empty(1, b).uniform_(-bound, bound, generator=g)))
            for i, (_, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
                self.weights.append(nn.Parameter(torch.stack([w for w, _ in inits[i]])))
                self.biases.append(nn.Parameter(torch.stack([c for _, c in inits[i]])))
                if i < len(widths):
                    self.gammas.append(nn.Parameter(torch.ones(k, 1, b)))
                    self.betas.append(nn.Parameter(torch.zeros(k, 1, b)))
                    self.register_buffer(f"rmean{i}", torch.zeros(k, 1, b))
                    self.register_buffer(f"rvar{i}", torch.ones(k, 1, b))
            self.n_hidden = len(widths)

        def forward(self, x, rows=None, drop=None):
            """``rows`` (K, B, 1) marks real rows of padded batches (training); ``drop`` gives, per hidden
            layer, a (K, B, width) dropout multiplier (training)."""
            for i in range(self.n_hidden):
                h = torch.baddbmm(self.biases[i], x, self.weights[i])
                rm, rv = getattr(self, f"rmean{i}"), getattr(self, f"rvar{i}")
                if self.training:
                    n = rows.sum(dim=1, keepdim=True)
                    nc = n.clamp(min=1)
                    mean = (h * rows).sum(dim=1, keepdim=True) / nc
                    var = (((h - mean) * rows) ** 2).sum(dim=1, keepdim=True) / nc
                    with torch.no_grad():  # running statistics as nn.BatchNorm1d (momentum 0.1, unbiased var)
                        upd = n > 1
                        rm.copy_(torch.where(upd, 0.9 * rm + 0.1 * mean, rm))
                        rv.copy_(torch.where(upd, 0.9 * rv + 0.1 * var * n / (n - 1).clamp(min=1), rv))
                else:
                    mean, var = rm, rv
                h = (h - mean) / torch.sqrt(var + 1e-5) * self.gammas[i] + self.betas[i]
                x = acts[activation](h)
                if drop is not None:
                    x = x * drop[i]
            return torch.baddbmm(self.biases[-1], x, self.weights[-1])

    return StackedMLP()


class _MemberOptimizer:
    """Nadam, Adadelta or Adam (PyTorch's update rules and defaults) with per-member step counts: members
    not in ``active`` keep their parameters and state, so each is optimised exactly as if trained alone.
    Updates are in place (the first layer of a stack is large); when every member is active at the same
    step the whole stack is updated at once, otherwise member by member."""

    def __init__(self, params: list, k: int, name: str, lr: float | None, weight_decay: float) -> None:
        import torch

        if name not in ("nadam", "adadelta", "adam"):
            raise ValueError(f"optimizer must be nadam, adadelta or adam, got {name!r}")
        self.params, self.name, self.wd = params, name, float(weight_decay)
        self.lr = float(lr or {"nadam": 2e-3, "adadelta": 1.0, "adam": 1e-3}[name])
        self.step = np.zeros(k, dtype=np.int64)
        self.mu_product = np.ones(k)
        self.s1 = [torch.zeros_like(p) for p in params]
        self.s2 = [torch.zeros_like(p) for p in params]

    def _coefficients(self, f: int) -> tuple[float, ...]:
        step = float(self.step[f])
        if self.name == "nadam":
            b1, md = 0.9, 4e-3
            mu = b1 * (1 - 0.5 * 0.96 ** (step * md))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((step + 1) * md))
            self.mu_product[f] *= mu
            mp = float(self.mu_product[f])
            return (-self.lr * (1 - mu) / (1 - mp), -self.lr * mu_next / (1 - mp * mu_next),
                    math.sqrt(1 - 0.999 ** step))
        if self.name == "adam":
            return -self.lr / (1 - 0.9 ** step), math.sqrt(1 - 0.999 ** step)
        return ()

    def _apply(self, p, g, s1, s2, c: tuple[float, ...]) -> None:
        if self.wd:
            g = g.add(p, alpha=self.wd)
        if self.name == "adadelta":
            s1.mul_(0.9).addcmul_(g, g, value=0.1)
            delta = s2.add(1e-6).sqrt_().div_(s1.add(1e-6).sqrt_()).mul_(g)
            s2.mul_(0.9).addcmul_(delta, delta, value=0.1)
            p.add_(delta, alpha=-self.lr)
            return
        s1.lerp_(g, 0.1)
        s2.mul_(0.999).addcmul_(g, g, value=0.001)
        if self.name == "nadam":
            denom = s2.sqrt().div_(c[2]).add_(1e-8)
            p.addcdiv_(g, denom, value=c[0])
            p.addcdiv_(s1, denom, value=c[1])
        else:
            p.addcdiv_(s1, s2.sqrt().div_(c[1]).add_(1e-8), value=c[0])

    def update(self, active: np.ndarray) -> None:
        import torch

        members = np.flatnonzero(active)
        self.step[members] += 1
        coefs = {int(f): self._coefficients(int(f)) for f in members}
        together = len(members) == len(self.step) and len(set(coefs.values())) == 1
        with torch.no_grad():
            for p, s1, s2 in zip(self.params, self.s1, self.s2, strict=True):
                if p.grad is None:
                    continue
                if together:
                    self._apply(p, p.grad, s1, s2, coefs[0])
                else:
                    for f in members:
                        self._apply(p[f], p.grad[f], s1[f], s2[f], coefs[int(f)])


def stratified_holdout(strat: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) positions of ``strat``: the validation rows are ``round(n * fraction)`` (at most
    n - 2), allotted to classes in proportion (largest remainders), every class with two or more samples
    keeping at least one validation row when there are enough validation rows."""
    n = len(strat)
    n_val = min(int(round(n * fraction)) if fraction > 0 else 0, n - 2)
    if n_val <= 0:
        return rng.permutation(n), np.array([], dtype=int)
    classes, codes = np.unique(strat, return_inverse=True)
    counts = np.bincount(codes)
    exact = counts * n_val / n
    take = np.floor(exact).astype(int)
    take[np.argsort(-(exact - take), kind="stable")[:n_val - take.sum()]] += 1
    eligible = counts >= 2
    if n_val >= eligible.sum():
        for c in np.flatnonzero(eligible & (take == 0)):
            donor = int(np.argmax(np.where(take > 1, take, -1)))
            if take[donor] > 1:
                take[donor] -= 1
                take[c] += 1
    val = []
    for c in range(len(classes)):
        val.append(rng.permutation(np.flatnonzero(codes == c))[:take[c]])
    val_idx = np.sort(np.concatenate(val))
    fit_idx = np.setdiff1d(np.arange(n), val_idx)
    return fit_idx, val_idx


def class_weights(t: np.ndarray, task: str, n_out: int, mode: str) -> np.ndarray:
    """Per-output-class weights from training targets ``t``: ``balanced`` is n / (classes x count) as in
    scikit-learn (a class absent from ``t`` gets 0); ``none`` all ones. Shape (2, L) for binary/multilabel
    (row 0: negatives, row 1: positives, per output column), (C,) for multiclass."""
    if mode not in CLASS_WEIGHTS:
        raise ValueError(f"class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got {mode!r}")
    if task == "multiclass":
        counts = np.bincount(t.astype(int), minlength=n_out).astype(float)
        k = n_out
    else:
        tt = t.reshape(len(t), -1)
        pos = tt.sum(axis=0)
        counts = np.stack([len(tt) - pos, pos]).astype(float)
        k = 2
    if mode == "none":
        return np.ones_like(counts, dtype=np.float32)
    with np.errstate(divide="ignore"):
        w = np.where(counts > 0, counts.sum(axis=0) / (k * counts), 0.0)
    return w.astype(np.float32)


@dataclass
class TrainedMembers:
    net: Any                     # StackedMLP (eval mode, best epochs' weights)
    task: str
    n_epochs: list[int]          # epochs trained per member (stopping epoch)
    best_epoch: list[int]        # 1-based epoch whose weights were kept, per member
    loss_curves: list[list[float]]


def _task_of(t: np.ndarray, n_classes: int | None) -> tuple[str, int]:
    if t.ndim == 2:
        return "multilabel", t.shape[1]
    n = int(n_classes if n_classes is not None else int(t.max()) + 1)
    return ("binary", 1) if n == 2 else ("multiclass", n)


def train_members(cfg: MLPClassifier, Xs, t: np.ndarray, train_rows: list[np.ndarray], seeds: list[int],
                  n_classes: int | None = None, device: str = "cpu") -> TrainedMembers:
    """Train one network per member ``f`` on rows ``train_rows[f]`` of ``Xs[f]`` (a (K, n, p) float32 array
    or tensor), targets ``t`` (class codes, or a 0/1 matrix for multilabel), seeded by ``seeds[f]``. The
    hyperparameters are ``cfg``'s; early stopping watches each member's class-weighted validation loss."""
    import torch
    import torch.nn.functional as F

    task, n_out = _task_of(t, n_classes)
    k = len(train_rows)
    dev = resolve_device(device)
    rngs = [np.random.default_rng(s) for s in seeds]
    gens = [torch.Generator().manual_seed(int(r.integers(2**31))) for r in rngs]
    t_all = torch.from_numpy(t.astype(np.int64 if task == "multiclass" else np.float32)).to(dev)
    t2 = t.reshape(len(t), -1) if task != "multiclass" else t
    fit_idx, val_idx, weights = [], [], []
    for f, rows in enumerate(train_rows):
        rows = np.asarray(rows)
        strat = t2[rows] if task == "multiclass" else t2[rows][:, int(np.argmin(np.minimum(
            t2[rows].mean(axis=0), 1 - t2[rows].mean(axis=0))))]
        fi, vi = stratified_holdout(np.asarray(strat), float(cfg.validation_fraction), rngs[f])
        fit_idx.append(rows[fi])
        val_idx.append(rows[vi])
        weights.append(class_weights(t[rows], task, n_out, cfg.class_weight))
    W = torch.from_numpy(np.stack(weights)).to(dev)          # (K, C) or (K, 2, L)
    Xt = torch.as_tensor(Xs).to(dev)
    net = _stacked_module(k, Xt.shape[2], n_out, cfg.first_layer, cfg.n_layers, cfg.activation, cfg.dropout,
                          gens).to(dev)
    dgens = gens if dev == "cpu" else [torch.Generator(device=dev).manual_seed(int(r.integers(2**31)))
                                       for r in rngs]
    opt = _MemberOptimizer(list(net.parameters()), k, cfg.optimizer, cfg.learning_rate, cfg.weight_decay)
    members = torch.arange(k, device=dev)[:, None]
    widths = hidden_widths(cfg.first_layer, cfg.n_layers)
    p_drop = float(cfg.dropout)

    def weighted(out, idx):
        """Per-member, per-row loss times its class weight (K, B)."""
        target = t_all[idx]
        if task == "multiclass":
            el = F.cross_entropy(out.reshape(-1, n_out), target.reshape(-1), reduction="none").view(k, -1)
            return el * torch.gather(W, 1, target)
        o = out.squeeze(-1) if task == "binary" else out
        el = F.binary_cross_entropy_with_logits(o, target, reduction="none")
        tgt = target.reshape(k, o.shape[1], -1)
        w = torch.where(tgt > 0.5, W[:, 1][:, None, :], W[:, 0][:, None, :])
        return (el.reshape(k, o.shape[1], -1) * w).mean(dim=2)

    def padded(groups: list[np.ndarray], width: int, count: int = k):
        idx = np.zeros((count, width), dtype=np.int64)
        rows = np.zeros((count, width), dtype=np.float32)
        for f, g in enumerate(groups):
            idx[f, :len(g)] = g
            rows[f, :len(g)] = 1.0
        return torch.from_numpy(idx).to(dev), torch.from_numpy(rows).to(dev)

    n_val_max = max(len(v) for v in val_idx)
    if n_val_max:
        vidx, vrows = padded(val_idx, n_val_max)
        vden = _row_weights(W, t_all, vidx, vrows, task)
    bs = max(2, int(cfg.batch_size))
    best = np.full(k, np.inf)
    waited = np.zeros(k, dtype=int)
    running = np.ones(k, dtype=bool)
    n_epochs, best_epoch = [0] * k, [0] * k
    curves: list[list[float]] = [[] for _ in range(k)]
    best_state = {n: v.detach().clone() for n, v in net.state_dict().items()}
    for epoch in range(int(cfg.epochs)):
        if not running.any():
            break
        net.train()
        batches = []
        for f in range(k):
            if not running[f]:
                batches.append([])
                continue
            perm = fit_idx[f][rngs[f].permutation(len(fit_idx[f]))]
            batches.append([b for b in (perm[i:i + bs] for i in range(0, len(perm), bs)) if len(b) >= 2])
        n_steps = max(len(b) for b in batches)
        # the epoch's batches as two tensors, copied to the device once: a copy per step would wait for the
        # device to finish the previous step (a synchronisation per mini-batch on a GPU)
        step_groups = [[b[s] if s < len(b) else np.array([], dtype=np.int64) for b in batches] for s in range(n_steps)]
        active_all = np.array([[len(g) > 0 for g in groups] for groups in step_groups]).reshape(n_steps, k)
        idx_all, rows_all = padded([g for groups in step_groups for g in groups], bs, n_steps * k)
        idx_all, rows_all = idx_all.view(n_steps, k, bs), rows_all.view(n_steps, k, bs)
        active_dev = torch.from_numpy(active_all.astype(np.float32)).to(dev)
        train_loss_dev = torch.zeros(k, device=dev)
        for s in range(n_steps):
            active_np = active_all[s]
            idx, rows = idx_all[s], rows_all[s]
            drop = None
            if p_drop > 0:
                drop = []
                for w in widths:
                    d = torch.ones(k, bs, w, device=dev)
                    for f in np.flatnonzero(active_np):
                        d[f].bernoulli_(1 - p_drop, generator=dgens[f])
                    drop.append(d / (1 - p_drop))
            rows3 = rows[:, :, None]
            for p in net.parameters():
                p.grad = None
            el = weighted(net(Xt[members, idx], rows3, drop), idx)
            per = (el * rows).sum(dim=1) / rows.sum(dim=1).clamp(min=1)
            per.sum().backward()
            opt.update(active_np)
            train_loss_dev += per.detach() * active_dev[s]
        train_loss = train_loss_dev.double().cpu().numpy()
        net.eval()
        with torch.no_grad():
            if n_val_max:
                el = weighted(net(Xt[members, vidx]), vidx)   # class-weighted mean loss of the validation rows
                monitor = ((el * vrows).sum(dim=1) / vden).cpu().numpy()
            else:
                monitor = train_loss / np.maximum(1, [len(b) for b in batches])
        improved = running & (monitor < best - 1e-6)
        for f in np.flatnonzero(running):
            curves[f].append(float(monitor[f]))
            n_epochs[f] = epoch + 1
            if improved[f]:
                best[f], waited[f], best_epoch[f] = monitor[f], 0, epoch + 1
            else:
                waited[f] += 1
                if waited[f] >= cfg.patience:
                    running[f] = False
        if cfg.verbose and epoch % 20 == 0:
            log.info("epoch %d: validation loss %s; %d of %d members training", epoch + 1,
                     np.round(monitor, 4).tolist(), int(running.sum()), k)
        if improved.any():
            sel = torch.from_numpy(improved).to(dev)
            for n, v in net.state_dict().items():
                best_state[n][sel] = v.detach()[sel]
    net.load_state_dict(best_state)
    net.eval()
    return TrainedMembers(net, task, n_epochs, best_epoch, curves)


def _row_weights(W, t_all, idx, rows, task: str):
    """Sum of the class weights of the real rows, per member (the denominator of a weighted mean loss)."""
    import torch

    target = t_all[idx]
    if task == "multiclass":
        w = torch.gather(W, 1, target)
    else:
        k, b = idx.shape
        tgt = target.reshape(k, b, -1)
        w = torch.where(tgt > 0.5, W[:, 1][:, None, :], W[:, 0][:, None, :]).mean(dim=2)
    return (w * rows).sum(dim=1).clamp(min=1e-12)


def member_logits(trained: TrainedMembers, Xs, rows: list[np.ndarray], device: str = "cpu") -> list[np.ndarray]:
    """Outputs of each member ``f`` for rows ``rows[f]`` of ``Xs[f]``."""
    import torch

    dev = resolve_device(device)
    k = len(rows)
    n_max = max(1, max(len(r) for r in rows))
    idx = torch.from_numpy(np.stack([np.resize(np.asarray(r, dtype=np.int64), n_max) if len(r)
                                     else np.zeros(n_max, np.int64) for r in rows])).to(dev)
    members = torch.arange(k, device=dev)[:, None]
    with torch.no_grad():
        out = trained.net(torch.as_tensor(Xs).to(dev)[members, idx]).cpu().numpy()
    return [out[f, :len(r)] for f, r in enumerate(rows)]


#: Bytes per network parameter while training: float32 weight, gradient, two optimiser moments (Nadam, Adadelta), the
#: best epoch's copy, and the optimiser step's temporaries. Measured with benchmarks/bench_wide_network.py (a 6,000-wide
#: network on 21,766 genes, two stacked members): 5.4 GB resident between steps, 7.5 GB at the step's peak, i.e.
#: about 24 bytes per parameter (16, the count without the copy and the temporaries, put two members in 10 GB).
BYTES_PER_PARAMETER = 24
#: Share of the memory limit that fold-stacked training may plan to use (the rest: Python, data, batch buffers).
MEMORY_SHARE = 0.6


def network_parameters(n_inputs: int, n_outputs: int, first_layer: int, n_layers: int) -> int:
    """Weights and biases of one network (batch-norm parameters included)."""
    widths = [int(n_inputs), *hidden_widths(first_layer, n_layers), int(n_outputs)]
    dense = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return dense + 2 * sum(widths[1:-1])


def member_bytes(n_samples: int, n_inputs: int, n_outputs: int, first_layer: int, n_layers: int) -> int:
    """Memory one member of a stack needs while training: its parameters with gradients and optimiser state, and
    its standardized copy of the data (float32)."""
    return (BYTES_PER_PARAMETER * network_parameters(n_inputs, n_outputs, first_layer, n_layers)
            + 4 * int(n_samples) * int(n_inputs))


def memory_limit_bytes() -> int:
    """The memory this process may use: ``RADPLUG_MEMORY_GB`` when set, else the cgroup limit (a SLURM job, a
    container), else the memory available on the machine."""
    import os

    if os.environ.get("RADPLUG_MEMORY_GB"):
        return int(float(os.environ["RADPLUG_MEMORY_GB"]) * 2**30)
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = open(path).read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 2**60:
            return int(raw)
    try:
        with open("/proc/meminfo") as fh:
            info = dict(line.split(":", 1) for line in fh)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 8 * 2**30


def device_memory_limit_bytes(device: str) -> int:
    """The memory a task may plan for on ``device``: :func:`memory_limit_bytes` on CPU; on a CUDA device also at
    most the device memory free now (the stacked networks live there)."""
    limit = memory_limit_bytes()
    if device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        limit = min(limit, int(free))
    return limit


def fold_groups(n_folds: int, bytes_per_member: int, budget: int) -> list[list[int]]:
    """The CV folds split into consecutive groups that fit ``budget`` bytes when stacked (all folds at once when
    they fit). Raises ValueError, saying what to do, when one member alone does not fit."""
    per_group = budget // max(1, bytes_per_member)
    if per_group < 1:
        raise ValueError(
            f"one network of this configuration needs about {bytes_per_member / 2**30:.1f} GB to train, more than "
            f"the {budget / 2**30:.1f} GB this task may plan for ({MEMORY_SHARE:.0%} of its memory limit): give the "
            "SEARCH tasks more memory (process_search in conf/base.config, or RADPLUG_MEMORY_GB), or use a "
            "narrower network (first_layer)")
    per_group = min(n_folds, int(per_group))
    return [list(range(i, min(n_folds, i + per_group))) for i in range(0, n_folds, per_group)]


def stacked_fold_proba(params: dict[str, Any], X: np.ndarray, y: np.ndarray,
                       splits: list[tuple[np.ndarray, np.ndarray]], seed: int, device: str = "cpu",
                       return_epochs: bool = False, class_weight: str = "balanced"):
    """Fit one network per CV fold simultaneously; per fold, ``predict_proba`` of its held-out rows.

    Fold ``f``'s member is seeded ``seed + f``, as the unstacked search seeds the estimator of fold ``f``,
    and follows the same path as ``MLPClassifier(random_state=seed + f).fit`` on that fold's standardized
    training rows. ``y`` holds class codes 0..C-1 (binary or multiclass) or a 0/1 matrix (multilabel); the
    layout of each returned array is that of :meth:`MLPClassifier.predict_proba` over all C classes.
    ``return_epochs`` also returns the stopping epoch of each fold's member."""
    cfg = MLPClassifier(**params).set_params(random_state=seed, device=device, class_weight=class_weight)
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    Xs = np.empty((len(splits), *X.shape), dtype=np.float32)
    for f, (tr, _) in enumerate(splits):
        mu = X[tr].astype(np.float64).mean(axis=0)
        sd = X[tr].astype(np.float64).std(axis=0)
        sd[sd == 0] = 1.0
        Xs[f] = ((X - mu) / sd).astype(np.float32)
    n_classes = None if y.ndim == 2 else int(y.max()) + 1
    _, n_out = _task_of(y, n_classes)
    need = member_bytes(X.shape[0], X.shape[1], n_out, cfg.first_layer, cfg.n_layers)
    groups = fold_groups(len(splits), need, int(MEMORY_SHARE * device_memory_limit_bytes(device)))
    if len(groups) > 1:
        log.info("fold-stacked training: %d folds of a %d-wide network (about %.1f GB each) in %d groups of at most "
                 "%d, to stay within the memory budget", len(splits), cfg.first_layer, need / 2**30, len(groups),
                 len(groups[0]))
    probas: list[np.ndarray] = []
    epochs: list[int] = []
    for group in groups:
        trained = train_members(cfg, Xs[group], y, [splits[f][0] for f in group], [seed + f for f in group],
                                n_classes, device)
        cfg.task_ = trained.task
        logits = member_logits(trained, Xs[group], [splits[f][1] for f in group], device)
        probas += [cfg.logits_to_proba(lg) for lg in logits]
        epochs += list(trained.n_epochs)
        del trained, logits   # free this group's networks before the next group trains (the budget is per group)
    if return_epochs:
        return probas, epochs
    return probas
