"""Plugin hook specifications (pluggy). Third-party packages register an entry point in group ``radplug``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("radplug")
hookimpl = pluggy.HookimplMarker("radplug")


@dataclass(frozen=True)
class ModelFamily:
    """A model family: a factory for scikit-learn-style estimators plus named hyperparameter grids.

    ``factory(**params)`` returns an unfitted estimator with ``fit``/``predict_proba``/``get_params``.
    ``grids`` maps a preset name (``paper``, ``fast``, ...) to a list of parameter dicts.
    ``multilabel``: the estimator accepts a 2-D 0/1 target matrix (one network for a radiomic group).
    ``devices``: the devices it can use (``cpu``, ``cuda``); a ``device`` parameter is passed when the
    estimator has one.
    ``maskable_fast``: informational only, not read by radplug. The masking engine takes its
    exact fast path for any fitted estimator with a ``network_`` whose first layer is ``torch.nn.Linear``;
    other estimators are masked through ``predict_proba``.
    """

    name: str
    summary: str
    factory: Callable[..., Any]
    grids: dict[str, list[dict[str, Any]]]
    reference: str = ""
    multilabel: bool = False
    devices: tuple[str, ...] = ("cpu",)
    maskable_fast: bool = False


@dataclass(frozen=True)
class GeneSetSource:
    """A gene-set collection. ``load(path)`` returns a long table with columns gene_set, gene.

    ``path`` is the file or URL the user gave for this source (None: the source's default location).
    """

    name: str
    version: str
    license: str
    citation: str
    load: Callable[[str | None], Any]
    description: str = ""
    needs_path: bool = True


@dataclass(frozen=True)
class Interpreter:
    """A model interpretation method over gene sets (masking-like).

    ``score(model, expression, labels, gene_sets, **options)`` returns a long table with columns
    target, class, gene_set, auc, ap (one row per set and class).
    """

    name: str
    summary: str
    score: Callable[..., Any]
    reference: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FeatureExtractor:
    """A radiomic feature extractor: image + mask of one patient -> named numeric features.

    ``factory(settings)`` returns ``extract(image, mask, label) -> dict[str, float]`` taking SimpleITK images
    (radplug reads the files and checks their geometry and the label first). Import heavy packages inside
    ``factory`` and ``version`` so that listing plugins stays cheap.
    ``presets`` maps a preset name to a settings dict; ``read_settings(path)`` reads a user settings file
    (YAML) into such a dict. ``version()`` returns the extractor's version (recorded with the features).
    ``install`` says how to install what the extractor needs (shown when it is missing).
    """

    name: str
    summary: str
    factory: Callable[[dict[str, Any]], Callable[..., dict[str, float]]]
    presets: dict[str, dict[str, Any]]
    read_settings: Callable[[str], dict[str, Any]]
    version: Callable[[], str]
    reference: str = ""
    install: str = ""


class RadplugSpec:
    """Hook specifications. Every hook returns a list of records."""

    @hookspec
    def radplug_model_families(self) -> list[ModelFamily]:
        """Model families this plugin provides."""

    @hookspec
    def radplug_geneset_sources(self) -> list[GeneSetSource]:
        """Gene-set sources this plugin provides."""

    @hookspec
    def radplug_interpreters(self) -> list[Interpreter]:
        """Interpretation methods this plugin provides."""

    @hookspec
    def radplug_feature_extractors(self) -> list[FeatureExtractor]:
        """Radiomic feature extractors this plugin provides."""
