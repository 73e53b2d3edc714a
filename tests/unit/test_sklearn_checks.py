"""scikit-learn's own estimator checks (`parametrize_with_checks`) over radplug's estimators.

The families enet and rf are scikit-learn estimators themselves (checked upstream); the network, the SVM
wrapper and the gbt wrapper are radplug's. Check instances are small (a 16-8 network, 10 epochs) to keep this fast.
Each check expected to fail is listed with its reason."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from radplug.models.gbt import GBTClassifier
from radplug.models.mlp import MLPClassifier
from radplug.models.svm import SVMClassifier

CLASS_WEIGHT_REASON = ("class_weight is radplug's --class_weight, 'balanced' or 'none'; per-class dicts "
                       "are refused with a clear error")


def expected_failures(est) -> dict[str, str]:
    """Checks radplug's estimators fail on purpose, with the reason."""
    return {"check_class_weight_classifiers": CLASS_WEIGHT_REASON}


@parametrize_with_checks(
    [SVMClassifier(),
     GBTClassifier(max_iter=10),
     MLPClassifier(first_layer=16, n_layers=2, epochs=10, patience=10, batch_size=16, learning_rate=1e-2,
                   validation_fraction=0.0, device="cpu")],
    expected_failed_checks=expected_failures,
)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)
