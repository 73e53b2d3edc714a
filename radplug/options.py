"""One path per parameter: nextflow_schema.json -> nextflow.config -> a step's Options record -> the function.

Each pipeline step that takes pipeline parameters has one ``Options`` record below: a frozen dataclass whose fields
are named exactly as the schema's parameters and whose defaults are read from the schema (shipped in the package:
``radplug/schemas/nextflow_schema.json``; the repository root links to it). The schema names, for every parameter,
the steps that take it (``x-radplug-steps``); the workflow builds each module's option group from that list
(``stepOptions`` in workflows/radplug.nf) and the module hands it to the step as one JSON argument (``--options``).
The ``radplug <step>`` command line is generated from the record (``add_options``): one ``--name-with-dashes`` flag
per field, with the schema's default, type, choices and description, so a step run by hand behaves as in the
pipeline. Adding a parameter therefore touches the schema, nextflow.config and one record; tests/unit/test_options.py
fails when any of them drifts.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import typing
from pathlib import Path
from typing import Any, ClassVar

SCHEMA = Path(__file__).resolve().parent / "schemas" / "nextflow_schema.json"
STEPS_KEY = "x-radplug-steps"   # schema property -> the radplug steps (subcommands) that take it


@functools.lru_cache(maxsize=1)
def schema_properties() -> dict[str, dict[str, Any]]:
    """Every pipeline parameter's schema entry, by name (the groups of ``$defs`` flattened)."""
    schema = json.loads(SCHEMA.read_text())
    return {name: spec for group in schema["$defs"].values() for name, spec in group["properties"].items()}


def schema_default(param: str) -> Any:
    """The schema default of one pipeline parameter (None when it has none); KeyError for an unknown name."""
    return schema_properties()[param].get("default")


_SCHEMA_TYPES = {"integer": int, "number": float, "string": str, "boolean": bool}


def _coerce(param: str, value: Any) -> Any:
    """``value`` as the schema type of ``param`` (None stays None); ValueError naming the parameter otherwise."""
    if value is None:
        return None
    spec = schema_properties()[param]
    kind = _SCHEMA_TYPES[spec.get("type", "string")]
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError(f"--{param} must be true or false, got {value!r}")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"--{param} must be an integer, got {value!r}")
    try:
        return kind(int(value) if kind is int and isinstance(value, float) else value)
    except (TypeError, ValueError):
        raise ValueError(f"--{param} must be {'an integer' if kind is int else 'a number'}, got {value!r}") from None


def check_value(param: str, value: Any, ranges: bool = True) -> None:
    """The schema's enum and (with ``ranges``) range of ``param``; ValueError saying what is allowed."""
    spec = schema_properties()[param]
    if value is None:
        return
    if spec.get("enum") and value not in spec["enum"]:
        raise ValueError(f"--{param} must be one of {', '.join(map(str, spec['enum']))}, got {value!r}")
    if ranges and isinstance(value, int | float) and not isinstance(value, bool):
        if spec.get("minimum") is not None and value < spec["minimum"]:
            raise ValueError(f"--{param} must be at least {spec['minimum']}, got {value}")
        if spec.get("maximum") is not None and value > spec["maximum"]:
            raise ValueError(f"--{param} must be at most {spec['maximum']}, got {value}")


class StepOptions:
    """Base of the Options records: ``step`` is the radplug subcommand; every field is a pipeline parameter."""

    step: ClassVar[str] = ""
    #: False for a step that checks its parameters' ranges itself, all problems at once (PREFLIGHT)
    check_ranges: ClassVar[bool] = True

    def __post_init__(self) -> None:
        problems = []
        for f in dataclasses.fields(self):
            try:
                value = _coerce(f.name, getattr(self, f.name))
                check_value(f.name, value, self.check_ranges)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            object.__setattr__(self, f.name, value)
        if problems:   # every problem at once, as PREFLIGHT reports them
            raise ValueError(f"radplug {self.step}: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> StepOptions:
        """The record from a mapping of parameter names (the JSON a module passes); unknown names are refused."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(f"radplug {cls.step} takes no option {', '.join('--' + u for u in unknown)}; its "
                             f"options are {', '.join('--' + f for f in sorted(fields))}")
        return cls(**values)


OPTIONS: dict[str, type[StepOptions]] = {}


def options_record(step: str):
    """Class decorator: a frozen dataclass of pipeline parameters for ``radplug <step>``, defaults from the schema."""

    def wrap(cls: type) -> type[StepOptions]:
        for name in cls.__dict__.get("__annotations__", {}):
            if name != "step":
                setattr(cls, name, schema_default(name))
        record = dataclasses.dataclass(frozen=True)(cls)
        record.step = step
        OPTIONS[step] = record
        return record

    return wrap


# --------------------------------------------------------------------------- the records, one per step
@options_record("simulate")
class SimulateOptions(StepOptions):
    seed: int
    sim_n_train: int
    sim_n_test: int
    sim_n_genes: int
    sim_n_sets: int
    sim_features_per_group: int
    sim_group_sizes: str
    sim_signal: float


@options_record("ingest")
class IngestStepOptions(StepOptions):
    orientation: str
    id_column: str | None
    clinical_targets: str
    histology_column: str | None
    collapse: str
    allow_sample_mismatch: bool
    radiomics_id_pattern: str | None
    radiomics_include: str | None
    radiomics_exclude: str | None
    radiomics_max_correlation: float


@options_record("preflight")
class PreflightOptions(StepOptions):
    check_ranges = False   # radplug.data.preflight.check_parameters reports them, with the cohort's limits
    models: str
    grid: str
    cv_folds: int
    seed: int
    n_boot: int
    mask_n_random: int
    interpreters: str
    min_set_size: int
    max_set_size: int
    min_minority: float
    nested_cv: int


@options_record("validate")
class ValidateOptions(StepOptions):
    max_missing: float


@options_record("binarize")
class BinarizeOptions(StepOptions):
    min_minority: float


@options_record("plan")
class PlanOptions(StepOptions):
    models: str
    grid: str
    grid_chunk: int
    cv_folds: int
    stack_folds: bool
    nested_cv: int


@options_record("search")
class SearchOptions(StepOptions):
    cv_folds: int
    seed: int
    device: str
    stack_folds: bool
    class_weight: str
    nested_cv: int


@options_record("feature-cv")
class FeatureCvOptions(StepOptions):
    cv_folds: int
    seed: int
    device: str
    stack_folds: bool
    class_weight: str


@options_record("nested")
class NestedOptions(StepOptions):
    models: str
    seed: int
    device: str
    class_weight: str
    nested_cv: int


@options_record("select")
class SelectOptions(StepOptions):
    models: str


@options_record("fit")
class FitOptions(StepOptions):
    seed: int
    device: str
    class_weight: str


@options_record("evaluate")
class EvaluateOptions(StepOptions):
    n_boot: int
    seed: int
    mask_min_auc: float
    mask_target_q: float


@options_record("mask")
class MaskOptions(StepOptions):
    min_set_size: int
    max_set_size: int
    mask_n_random: int
    mask_max_random: int
    mask_null_bins: int
    mask_fdr_scope: str
    interpreters: str
    seed: int
    device: str


@options_record("significance")
class SignificanceOptions(StepOptions):
    mask_fdr_scope: str


@options_record("extract")
class ExtractOptions(StepOptions):
    extractor: str
    extract_settings: str


#: Parameters that no step's Options record carries: Nextflow's own (where and how to run and publish), and files the
#: workflow stages and hands to a step as a path.
WORKFLOW_PARAMS: dict[str, str] = {
    "input": "the samplesheet, parsed by SAMPLESHEET and staged by the workflow",
    "outdir": "where Nextflow publishes", "publish_dir_mode": "how Nextflow publishes",
    "overwrite": "main.nf's results-folder check", "genesets": "specs the workflow stages or passes through",
    "histology_map": "a file staged for INGEST", "feature_groups": "a file staged for BINARIZE",
    "modules": "a file staged for SIGNIFICANCE", "sim_gmt": "a file staged for SIMULATE",
    "extract_batch": "patients per EXTRACT task (workflow fan-out)",
    "help": "main.nf", "version": "main.nf", "validate_params": "main.nf",
    "container_cpu": "conf/ container settings", "container_gpu": "conf/ container settings",
}


# --------------------------------------------------------------------------- the generated command line
def _flag(param: str) -> str:
    return "--" + param.replace("_", "-")


def add_options(parser: argparse.ArgumentParser, record: type[StepOptions]) -> None:
    """One flag per field of ``record`` (named after the parameter, dashes for underscores), and ``--options JSON``
    (the module's option group). Flags given on the command line win over ``--options``, which wins over the
    schema's defaults; ``resolve_options`` builds the record."""
    group = parser.add_argument_group("pipeline parameters (defaults from nextflow_schema.json)")
    hints = typing.get_type_hints(record)
    for f in dataclasses.fields(record):
        spec = schema_properties()[f.name]
        help_text = f"--{f.name} in the pipeline; default {spec.get('default')!r}. {spec.get('description', '')}"
        if hints[f.name] is bool:
            group.add_argument(_flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(_flag(f.name), dest=f.name, default=argparse.SUPPRESS, choices=spec.get("enum"),
                               metavar=None if spec.get("enum") else f.name.upper(), help=help_text)
    group.add_argument("--options", dest="options_json", default=None, metavar="JSON",
                       help="the step's pipeline parameters as one JSON object (what the pipeline's module passes)")
    parser.set_defaults(options_record=record)


def resolve_options(args: argparse.Namespace) -> StepOptions | None:
    """The step's Options record from the parsed command line (schema defaults < --options JSON < flags)."""
    record = getattr(args, "options_record", None)
    if record is None:
        return None
    values: dict[str, Any] = {}
    if args.options_json:
        try:
            given = json.loads(args.options_json)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--options is not a JSON object: {exc}") from None
        if not isinstance(given, dict):
            raise ValueError("--options must be a JSON object of parameter names and values")
        values.update(given)
    values.update({f.name: getattr(args, f.name) for f in dataclasses.fields(record) if hasattr(args, f.name)})
    return record.from_mapping(values)
