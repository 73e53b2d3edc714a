"""Plugin hook specifications (pluggy). Third-party packages register an entry point in group ``radplug``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("radplug")
hookimpl = pluggy.HookimplMarker("radplug")


@dataclass(frozen=True)
class Staged:
    """A family whose configurations that differ only in the integer parameter ``param`` (trees, boosting
    iterations) come from one fit at its largest value. ``proba(estimator, X, values)`` returns, for each
    value, the class probabilities of the model that fitting with that value would give: exactly, because
    the smaller model is the first ``value`` trees or iterations of the larger one (same seed)."""

    param: str
    proba: Callable[[Any, Any, list[int]], list[Any]]


@dataclass(frozen=True)
class ModelFamily:
    """A model family: a factory for scikit-learn-style estimators plus named hyperparameter grids.

    ``factory(**params)`` returns an unfitted estimator with ``fit``/``predict_proba``/``get_params``.
    ``grids`` maps a preset name (``paper``, ``fast``, ...) to a list of parameter dicts.
    ``multilabel``: the estimator accepts a 2-D 0/1 target matrix (one network for a radiomic group).
    ``devices``: the devices it can use (``cpu``, ``cuda``); a ``device`` parameter is passed when the
    estimator has one, and a device the family does not declare is replaced by ``cpu`` (with a log line).
    ``fold_stacked``: optional trainer ``fold_stacked(params, X, y, splits, seed, device, class_weight=...)``
    that fits every CV fold of one configuration at once and returns one probability array per fold
    (``--stack_folds``); families without one are fitted fold by fold.
    ``staged``: optional :class:`Staged`: SEARCH fits one model per fold for every group of configurations that
    differ only in ``staged.param`` and scores the smaller ones from it (``--grid_chunk`` counts such fits).
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
    fold_stacked: Callable[..., list[Any]] | None = None
    staged: Staged | None = None


@dataclass(frozen=True)
class GeneSetSource:
    """A gene-set collection. ``load(spec)`` returns a long table with columns gene_set, gene.

    ``spec`` is what the user wrote after ``SOURCE=`` in ``--genesets``: a local file (staged by Nextflow), a
    URL, a release (``msigdb_hallmark=7.0``) or anything else the source understands; None when the user gave
    the name alone. The source resolves it itself (the pipeline passes it through unchanged) and raises
    ``radplug.io.RadplugInputError`` with a clear message when it cannot. ``needs_path``: the source needs a
    spec (``--genesets NAME`` alone is refused before anything runs).
    """

    name: str
    version: str
    license: str
    citation: str
    load: Callable[[str | None], Any]
    description: str = ""
    needs_path: bool = True


@dataclass(frozen=True)
class InterpretRequest:
    """Everything an interpreter gets for one (model, gene-set source): the final model
    (``radplug.training.final.FinalModel``: ``target``, ``family``, ``classes``, ``genes``, ``predict_proba``), the
    expression matrix (patients x genes), the targets table (``sample_id``, ``cohort``, one column per target),
    the gene sets as column indices into ``model.genes`` (``members``), their coverage table, the source name,
    the seed, the device, and the MASK step's options (``n_random``, ``max_random``, ``null_bins``,
    ``fdr_scope``, ...)."""

    model: Any
    expression: Any
    targets: Any
    members: dict[str, Any]
    coverage: Any
    source: str
    seed: int = 0
    device: str = "cpu"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class InterpretResult:
    """What an interpreter returns: ``table``, a long table with at least the columns target, cohort, class,
    gene_set and auc (one row per set, class and cohort; more columns are kept), plus optional extra tables by
    name (masking adds its ``null``) and metadata recorded in the Parquet file."""

    table: Any
    extra: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Interpreter:
    """A model interpretation method over gene sets.

    ``score(request: InterpretRequest) -> InterpretResult``. The MASK step runs masking (always: it feeds the
    significance step) and every interpreter named in ``--interpreters``, each through the same runner
    (``radplug.explain.interpret.run_interpreter``); a non-masking interpreter's table is published as
    ``masking/<name>.parquet``.
    """

    name: str
    summary: str
    score: Callable[[InterpretRequest], InterpretResult]
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
