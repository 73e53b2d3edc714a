"""Deliberately clashing plugin: provides a model family named like a built-in ('enet').

With ``RADPLUG_DUPE_MODE=wrongtype`` its gene-set hook returns a plain dict instead of a GeneSetSource.
"""

from __future__ import annotations

import os

from radplug.hookspecs import ModelFamily, hookimpl


def _make(**params):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**params)


@hookimpl
def radplug_model_families() -> list[ModelFamily]:
    if os.environ.get("RADPLUG_DUPE_MODE") == "wrongtype":
        return []
    return [ModelFamily(name="enet", summary="a second enet", factory=_make, grids={"fast": [{"C": 1.0}]})]


@hookimpl
def radplug_geneset_sources():
    if os.environ.get("RADPLUG_DUPE_MODE") == "wrongtype":
        return [{"name": "not-a-record"}]
    return []
