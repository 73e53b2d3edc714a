"""Dense feed-forward network (PyTorch) with the scikit-learn estimator contract.

The architecture follows Smedley et al. 2021: ``n_layers`` hidden layers, the first with
``first_layer`` units and each next one halved; batch normalization, activation and dropout after
each; sigmoid outputs with binary cross-entropy for binary and multilabel targets, softmax with
cross-entropy for multiclass targets; early stopping on a validation split of the training data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

CLASS_WEIGHTS = ("balanced", "none")   # --class_weight: n / (classes x count) per class, or equal weights


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without a GPU is an error."""
    if device == "cpu":   # no torch import (about 1.3 CPU s) for a step that masks scikit-learn models on CPU
        return device
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


def _to_sequential(stacked, n_inputs: int, cfg: MLPClassifier):
    """Member 0 of a trained stacked network as the plain :func:`build_network` module (eval mode, CPU)."""
    import torch
    import torch.nn as nn

    n_out = stacked.weights[-1].shape[-1]
    net = build_network(n_inputs, n_out, cfg.first_layer, cfg.n_layers, cfg.activation, cfg.dropout)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    norms = [m for m in net if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        for i, lin in enumerate(linears):
            lin.weight.copy_(stacked.weights[i][0].T.cpu())
            lin.bias.copy_(stacked.biases[i][0, 0].cpu())
        for i, bn in enumerate(norms):
            bn.weight.copy_(stacked.gammas[i][0, 0].cpu())
            bn.bias.copy_(stacked.betas[i][0, 0].cpu())
            bn.running_mean.copy_(getattr(stacked, f"rmean{i}")[0, 0].cpu())
            bn.running_var.copy_(getattr(stacked, f"rvar{i}")[0, 0].cpu())
    return net.eval()


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Feed-forward network for binary, multiclass (softmax) and multilabel (sigmoid) targets.

    ``predict_proba`` returns (n, 2) for binary, (n, K) for multiclass and (n, L) positive-class
    probabilities for a multilabel 0/1 target matrix.
    """

    def __init__(self, first_layer: int = 2000, n_layers: int = 3, activation: str = "relu",
                 dropout: float = 0.4, optimizer: str = "nadam", learning_rate: float | None = None,
                 weight_decay: float = 0.0, epochs: int = 500, patience: int = 200, batch_size: int = 10,
                 validation_fraction: float = 0.1, class_weight: str = "balanced", device: str = "auto",
                 random_state: int | None = 0, verbose: bool = False):
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
        self.class_weight = class_weight
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- helpers -------------------------------------------------------------------------------
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
        """Train with early stopping on a stratified held-out fraction of (X, y). Returns self.

        Training is :func:`radplug.models.stacked.train_members` with one member: a fold of a stacked CV
        with this seed follows the same path (same stopping and best epoch)."""
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import validate_data

        from radplug.models.stacked import train_members

        if self.class_weight not in CLASS_WEIGHTS:
            raise ValueError(f"class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got {self.class_weight!r}")
        X, y = validate_data(self, X, y, multi_output=True, dtype=np.float32, y_numeric=False)
        if len(X) < 2:
            raise ValueError(f"n_samples={len(X)}: the network needs at least 2 training samples")
        check_classification_targets(y)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            import warnings

            from sklearn.exceptions import DataConversionWarning

            warnings.warn("A column-vector y was passed when a 1d array was expected; it is read as one "
                          "target (pass a 1d y)", DataConversionWarning, stacklevel=2)
            y = y[:, 0]
        t = self._encode_targets(y)
        n_classes = None if self.task_ == "multilabel" else len(self.classes_)
        trained = train_members(self, X[None], t, [np.arange(len(X))], [self.random_state], n_classes,
                                self.device)
        self.network_ = _to_sequential(trained.net, X.shape[1], self)
        self.loss_curve_: list[float] = trained.loss_curves[0]
        self.n_epochs_ = trained.n_epochs[0]
        self.best_epoch_ = trained.best_epoch[0]
        self.device_ = "cpu"
        return self

    # -- inference ---------------------------------------------------------------------------------
    def forward_logits(self, X) -> np.ndarray:
        """Raw network outputs for X (no output nonlinearity)."""
        import torch
        from sklearn.utils.validation import check_is_fitted, validate_data

        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
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
