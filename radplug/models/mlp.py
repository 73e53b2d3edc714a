"""Dense feed-forward network (PyTorch) with the scikit-learn estimator contract.

The architecture follows Smedley et al. 2021: ``n_layers`` hidden layers, the first with
``first_layer`` units and each next one halved; batch normalization, activation and dropout after
each; sigmoid outputs with binary cross-entropy for binary and multilabel targets, softmax with
cross-entropy for multiclass targets; early stopping on a validation split of the training data.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

log = logging.getLogger(__name__)


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without a GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but PyTorch sees no CUDA device")
    return device


def hidden_widths(first_layer: int, n_layers: int) -> list[int]:
    """Widths of the hidden layers: ``first_layer``, then halved at each further layer (at least 1)."""
    widths, w = [], int(first_layer)
    for _ in range(int(n_layers)):
        widths.append(w)
        w = max(1, w // 2)
    return widths


def build_network(n_inputs: int, n_outputs: int, first_layer: int, n_layers: int, activation: str,
                  dropout: float):
    """The paper's network: Linear -> BatchNorm -> activation -> Dropout per hidden layer."""
    import torch.nn as nn

    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
    layers: list[nn.Module] = []
    width_in = n_inputs
    for width in hidden_widths(first_layer, n_layers):
        layers += [nn.Linear(width_in, width), nn.BatchNorm1d(width), acts[activation](), nn.Dropout(dropout)]
        width_in = width
    layers.append(nn.Linear(width_in, n_outputs))
    return nn.Sequential(*layers)


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Feed-forward network for binary, multiclass (softmax) and multilabel (sigmoid) targets.

    ``predict_proba`` returns (n, 2) for binary, (n, K) for multiclass and (n, L) positive-class
    probabilities for a multilabel 0/1 target matrix.
    """

    def __init__(self, first_layer: int = 2000, n_layers: int = 3, activation: str = "relu",
                 dropout: float = 0.4, optimizer: str = "nadam", learning_rate: float | None = None,
                 weight_decay: float = 0.0, epochs: int = 500, patience: int = 200, batch_size: int = 10,
                 validation_fraction: float = 0.1, device: str = "auto", random_state: int | None = 0,
                 verbose: bool = False):
        self.first_layer = first_layer
        self.n_layers = n_layers
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.patience = patience
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- helpers -------------------------------------------------------------------------------
    def _make_optimizer(self, params):
        import torch

        wd = float(self.weight_decay)
        if self.optimizer == "nadam":
            return torch.optim.NAdam(params, lr=self.learning_rate or 2e-3, weight_decay=wd)
        if self.optimizer == "adadelta":
            return torch.optim.Adadelta(params, lr=self.learning_rate or 1.0, weight_decay=wd)
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.learning_rate or 1e-3, weight_decay=wd)
        raise ValueError(f"optimizer must be nadam, adadelta or adam, got {self.optimizer!r}")

    def _encode_targets(self, y) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 2:
            self.task_ = "multilabel"
            self.classes_ = np.arange(y.shape[1])
            return y.astype(np.float32)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("the target has a single class; a classifier needs at least two")
        self.task_ = "binary" if len(self.classes_) == 2 else "multiclass"
        return codes.astype(np.float32 if self.task_ == "binary" else np.int64)

    def fit(self, X, y):
        """Train with early stopping on a held-out fraction of (X, y). Returns self."""
        import torch

        X = np.asarray(X, dtype=np.float32)
        t = self._encode_targets(y)
        rng = np.random.default_rng(self.random_state)
        torch.manual_seed(int(rng.integers(2**31)))
        self.device_ = resolve_device(self.device)
        n_out = {"binary": 1, "multilabel": t.shape[-1]}.get(self.task_, len(self.classes_))
        self.n_features_in_ = X.shape[1]
        net = build_network(X.shape[1], n_out, self.first_layer, self.n_layers, self.activation, self.dropout)
        net.to(self.device_)
        opt = self._make_optimizer(net.parameters())
        loss_fn = torch.nn.CrossEntropyLoss() if self.task_ == "multiclass" else torch.nn.BCEWithLogitsLoss()

        order = rng.permutation(len(X))
        n_val = int(round(len(X) * self.validation_fraction)) if self.validation_fraction > 0 else 0
        n_val = min(n_val, len(X) - 2)
        val_idx, tr_idx = order[:n_val], order[n_val:]
        dev = self.device_
        Xt = torch.from_numpy(X[tr_idx]).to(dev)
        yt = torch.from_numpy(t[tr_idx]).to(dev)
        Xv = torch.from_numpy(X[val_idx]).to(dev) if n_val else None
        yv = torch.from_numpy(t[val_idx]).to(dev) if n_val else None

        def _loss(out, target):
            return loss_fn(out.squeeze(1) if self.task_ == "binary" else out, target)

        best, best_state, waited = np.inf, None, 0
        self.loss_curve_: list[float] = []
        start = time.time()
        bs = max(2, int(self.batch_size))
        for epoch in range(int(self.epochs)):
            net.train()
            perm = torch.from_numpy(rng.permutation(len(tr_idx))).to(dev)
            total = 0.0
            for i in range(0, len(perm), bs):
                b = perm[i:i + bs]
                if len(b) < 2:  # batch norm needs two samples
                    continue
                opt.zero_grad()
                loss = _loss(net(Xt[b]), yt[b])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(b)
            net.eval()
            with torch.no_grad():
                monitor = float(_loss(net(Xv), yv)) if n_val else total / len(tr_idx)
            self.loss_curve_.append(monitor)
            if monitor < best - 1e-6:
                best, waited = monitor, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
            if self.verbose and epoch % 20 == 0:
                log.info("epoch %d loss %.4f (%.1fs)", epoch, monitor, time.time() - start)
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        self.n_epochs_ = len(self.loss_curve_)
        self.network_ = net.cpu()
        self.device_ = "cpu"
        return self

    # -- inference ---------------------------------------------------------------------------------
    def forward_logits(self, X) -> np.ndarray:
        """Raw network outputs for X (no output nonlinearity)."""
        import torch

        net = self.network_
        with torch.no_grad():
            out = net(torch.as_tensor(np.asarray(X, dtype=np.float32)))
        return out.numpy()

    def logits_to_proba(self, logits: np.ndarray) -> np.ndarray:
        """Class probabilities from outputs, in the layout of :meth:`predict_proba`."""
        if self.task_ == "multiclass":
            z = logits - logits.max(axis=-1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=-1, keepdims=True)
        p = 1.0 / (1.0 + np.exp(-logits))
        if self.task_ == "binary":
            p = p[..., 0]
            return np.stack([1 - p, p], axis=-1)
        return p

    def predict_proba(self, X) -> np.ndarray:
        return self.logits_to_proba(self.forward_logits(X))

    def predict(self, X):
        p = self.predict_proba(X)
        if self.task_ == "multilabel":
            return (p >= 0.5).astype(int)
        return self.classes_[p.argmax(axis=1)]

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()
