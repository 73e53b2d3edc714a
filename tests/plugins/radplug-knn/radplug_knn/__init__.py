"""Example third-party radplug plugin: a k-nearest-neighbours model family.

One module and one entry point (group ``radplug``) are all a new model family needs.
"""

from __future__ import annotations

from typing import Any

from radplug.hookspecs import ModelFamily, hookimpl


def make_knn(**params: Any):
    """A scikit-learn KNeighborsClassifier (fit/predict_proba/get_params)."""
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(**params)


@hookimpl
def radplug_model_families() -> list[ModelFamily]:
    return [
        ModelFamily(
            name="knn",
            summary="k-nearest neighbours (example plugin)",
            reference="scikit-learn KNeighborsClassifier",
            factory=make_knn,
            grids={
                "paper": [{"n_neighbors": k, "weights": w}
                          for k in (5, 10, 15, 25) for w in ("uniform", "distance")],
                "fast": [{"n_neighbors": 15, "weights": "distance"}],
            },
        )
    ]
