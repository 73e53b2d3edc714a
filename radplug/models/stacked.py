"""Train the networks of several CV folds at once: one "stacked" network whose layers hold K members.

Each member is the network of :mod:`radplug.models.mlp` (Linear -> BatchNorm -> activation -> Dropout per
hidden layer) with its own weights, batch-norm statistics, per-fold standardization, validation split and
early stopping. A step pushes one mini-batch per member through batched matrix products (``torch.baddbmm``),
so K small matrix products become one larger call; the per-member losses are summed, and because Adam-type
and Adadelta updates are element-wise, each member is optimised exactly as if it were trained alone.
Differences from K separate :class:`~radplug.models.mlp.MLPClassifier` fits: the random streams for
initialisation, shuffling and dropout differ, and an epoch draws ``ceil(max_k n_k / batch)`` full batches
per member (smaller folds wrap around instead of ending on a short batch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from radplug.models.mlp import MLPClassifier, hidden_widths, resolve_device


def _stacked_module(k: int, n_inputs: int, n_outputs: int, first_layer: int, n_layers: int, activation: str,
                    dropout: float):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

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
            for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
                bound = 1.0 / math.sqrt(a)  # nn.Linear's default initialisation
                self.weights.append(nn.Parameter(torch.empty(k, a, b).uniform_(-bound, bound)))
                self.biases.append(nn.Parameter(torch.empty(k, 1, b).uniform_(-bound, bound)))
                if i < len(widths):
                    self.gammas.append(nn.Parameter(torch.ones(k, 1, b)))
                    self.betas.append(nn.Parameter(torch.zeros(k, 1, b)))
                    self.register_buffer(f"rmean{i}", torch.zeros(k, 1, b))
                    self.register_buffer(f"rvar{i}", torch.ones(k, 1, b))
            self.n_hidden = len(widths)

        def forward(self, x):
            for i in range(self.n_hidden):
                h = torch.baddbmm(self.biases[i], x, self.weights[i])
                rm, rv = getattr(self, f"rmean{i}"), getattr(self, f"rvar{i}")
                if self.training:
                    mean = h.mean(dim=1, keepdim=True)
                    var = h.var(dim=1, unbiased=False, keepdim=True)
                    with torch.no_grad():  # running statistics as nn.BatchNorm1d (momentum 0.1, unbiased var)
                        n = h.shape[1]
                        rm.mul_(0.9).add_(0.1 * mean)
                        rv.mul_(0.9).add_(0.1 * var * n / max(1, n - 1))
                else:
                    mean, var = rm, rv
                h = (h - mean) / torch.sqrt(var + 1e-5) * self.gammas[i] + self.betas[i]
                x = F.dropout(acts[activation](h), dropout, self.training)
            return torch.baddbmm(self.biases[-1], x, self.weights[-1])

    return StackedMLP()


def stacked_fold_proba(params: dict[str, Any], X: np.ndarray, y: np.ndarray,
                       splits: list[tuple[np.ndarray, np.ndarray]], seed: int, device: str = "cpu",
                       return_epochs: bool = False) -> list[np.ndarray]:
    """Fit one network per CV fold simultaneously; per fold, ``predict_proba`` of its held-out rows.

    ``y`` holds class codes 0..C-1 (binary or multiclass) or a 0/1 matrix (multilabel); the layout of
    each returned array is that of :meth:`MLPClassifier.predict_proba` over all C classes. Inputs are
    standardized per fold with the training rows' mean and sd, as the search pipeline does.
    """
    import torch
    import torch.nn.functional as F

    cfg = MLPClassifier(**params).set_params(random_state=seed, device=device)
    dev = resolve_device(cfg.device)
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if y.ndim == 2:
        task, n_out = "multilabel", y.shape[1]
        t_all = torch.from_numpy(y.astype(np.float32))
    else:
        n_classes = int(y.max()) + 1
        task = "binary" if n_classes == 2 else "multiclass"
        n_out = 1 if task == "binary" else n_classes
        t_all = torch.from_numpy(y.astype(np.float32 if task == "binary" else np.int64))
    rng = np.random.default_rng(seed)
    torch.manual_seed(int(rng.integers(2**31)))
    k = len(splits)
    Xs = np.empty((k, *X.shape), dtype=np.float32)
    fit_idx, val_idx = [], []
    for f, (tr, _) in enumerate(splits):
        mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
        sd[sd == 0] = 1.0
        Xs[f] = (X - mu) / sd
        order = rng.permutation(tr)
        n_val = int(round(len(tr) * cfg.validation_fraction)) if cfg.validation_fraction > 0 else 0
        n_val = min(n_val, len(tr) - 2)
        val_idx.append(order[:n_val])
        fit_idx.append(order[n_val:])
    Xt = torch.from_numpy(Xs).to(dev)
    t_all = t_all.to(dev)
    net = _stacked_module(k, X.shape[1], n_out, cfg.first_layer, cfg.n_layers, cfg.activation, cfg.dropout)
    net = net.to(dev)
    opt = cfg._make_optimizer(net.parameters())
    members = torch.arange(k, device=dev)[:, None]

    def elementwise(out, target):
        """Per-member, per-sample loss (K, B); out is (K, B, n_out)."""
        if task == "multiclass":
            return F.cross_entropy(out.reshape(-1, n_out), target.reshape(-1), reduction="none").view(k, -1)
        o = out.squeeze(-1) if task == "binary" else out
        el = F.binary_cross_entropy_with_logits(o, target, reduction="none")
        return el.reshape(k, o.shape[1], -1).mean(dim=2)

    n_val_max = max(len(v) for v in val_idx)
    if n_val_max:
        vpad = np.stack([np.resize(v, n_val_max) if len(v) else np.zeros(n_val_max, int) for v in val_idx])
        vmask = torch.tensor(np.stack([np.arange(n_val_max) < len(v) for v in val_idx]), device=dev)
        vidx = torch.from_numpy(vpad).to(dev)
    bs = max(2, int(cfg.batch_size))
    steps = math.ceil(max(len(f) for f in fit_idx) / bs)
    best = torch.full((k,), float("inf"), device=dev)
    waited = torch.zeros(k, dtype=torch.long, device=dev)
    best_state = {n: v.detach().clone() for n, v in net.state_dict().items()}
    epochs_run = 0
    for _ in range(int(cfg.epochs)):
        epochs_run += 1
        net.train()
        order = np.stack([np.resize(np.concatenate([rng.permutation(f) for _ in range(2)]), steps * bs)
                          for f in fit_idx])
        order_t = torch.from_numpy(order).to(dev)
        train_loss = torch.zeros(k, device=dev)
        for s in range(steps):
            b = order_t[:, s * bs:(s + 1) * bs]
            opt.zero_grad()
            per = elementwise(net(Xt[members, b]), t_all[b]).mean(dim=1)
            per.sum().backward()
            opt.step()
            train_loss += per.detach()
        net.eval()
        with torch.no_grad():
            if n_val_max:
                el = elementwise(net(Xt[members, vidx]), t_all[vidx])
                monitor = (el * vmask).sum(dim=1) / vmask.sum(dim=1).clamp(min=1)
            else:
                monitor = train_loss / steps
        improved = monitor < best - 1e-6
        best = torch.where(improved, monitor, best)
        waited = torch.where(improved, torch.zeros_like(waited), waited + 1)
        if bool(improved.any()):
            state = net.state_dict()
            for n, v in state.items():
                best_state[n][improved] = v.detach()[improved]
        if bool((waited >= cfg.patience).all()):
            break
    net.load_state_dict(best_state)
    net.eval()
    held = [np.asarray(va) for _, va in splits]
    n_max = max(len(h) for h in held)
    hidx = torch.from_numpy(np.stack([np.resize(h, n_max) for h in held])).to(dev)
    with torch.no_grad():
        logits = net(Xt[members, hidx]).cpu().numpy()
    cfg.task_ = task
    probas = [cfg.logits_to_proba(logits[f, :len(h)]) for f, h in enumerate(held)]
    if return_epochs:
        return probas, epochs_run  # type: ignore[return-value]
    return probas
