"""One default per parameter: the steps' command-line options take their defaults from nextflow_schema.json.

The schema ships in the package (``radplug/schemas/nextflow_schema.json``; the repository root links to it), so
``radplug mask`` run by hand uses the pipeline's defaults. ``STEP_PARAMS`` says which option of which step is
which pipeline parameter; ``apply_schema_defaults`` sets those defaults on the parser, and tests/test_options.py
checks the table against the schema, the parser, nextflow.config and the modules' command lines.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parent / "schemas" / "nextflow_schema.json"

#: radplug subcommand -> {argparse dest: pipeline parameter} for every option a module passes from a parameter.
STEP_PARAMS: dict[str, dict[str, str]] = {
    "simulate": {"seed": "seed", "n_train": "sim_n_train", "n_test": "sim_n_test", "n_genes": "sim_n_genes",
                 "n_sets": "sim_n_sets", "features_per_group": "sim_features_per_group", "signal": "sim_signal",
                 "group_sizes": "sim_group_sizes"},
    "ingest": {"orientation": "orientation", "clinical_targets": "clinical_targets", "collapse": "collapse",
               "id_column": "id_column", "histology_column": "histology_column",
               "allow_sample_mismatch": "allow_sample_mismatch", "radiomics_id_pattern": "radiomics_id_pattern",
               "radiomics_include": "radiomics_include", "radiomics_exclude": "radiomics_exclude",
               "radiomics_max_correlation": "radiomics_max_correlation"},
    "preflight": {"models": "models", "grid": "grid", "cv_folds": "cv_folds", "seed": "seed", "n_boot": "n_boot",
                  "mask_n_random": "mask_n_random", "interpreters": "interpreters", "min_set_size": "min_set_size",
                  "max_set_size": "max_set_size", "min_minority": "min_minority", "nested_cv": "nested_cv"},
    "validate": {"max_missing": "max_missing"},
    "binarize": {"min_minority": "min_minority"},
    "plan": {"models": "models", "grid": "grid", "chunk_size": "grid_chunk", "folds": "cv_folds",
             "stack_folds": "stack_folds", "nested_cv": "nested_cv"},
    "search": {"folds": "cv_folds", "seed": "seed", "device": "device", "stack_folds": "stack_folds",
               "class_weight": "class_weight", "n_outer": "nested_cv"},
    "nested": {"models": "models", "seed": "seed", "device": "device", "class_weight": "class_weight",
               "n_outer": "nested_cv"},
    "feature-cv": {"folds": "cv_folds", "seed": "seed", "device": "device", "stack_folds": "stack_folds",
                   "class_weight": "class_weight"},
    "select": {"models": "models"},
    "fit": {"seed": "seed", "device": "device", "class_weight": "class_weight"},
    "evaluate": {"n_boot": "n_boot", "seed": "seed", "mask_min_auc": "mask_min_auc",
                 "mask_target_q": "mask_target_q"},
    "mask": {"min_set_size": "min_set_size", "max_set_size": "max_set_size", "n_random": "mask_n_random",
             "max_random": "mask_max_random", "max_null_sizes": "mask_null_bins", "fdr_scope": "mask_fdr_scope",
             "interpreters": "interpreters", "seed": "seed", "device": "device"},
    "significance": {"fdr_scope": "mask_fdr_scope"},
    "extract": {"extractor": "extractor", "settings": "extract_settings"},
}


#: Parameters that no step option carries: Nextflow's own (where and how to run and publish), and files the workflow
#: stages and hands to a step as a path.
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


@functools.lru_cache(maxsize=1)
def schema_properties() -> dict[str, dict[str, Any]]:
    """Every pipeline parameter's schema entry, by name (the groups of ``$defs`` flattened)."""
    schema = json.loads(SCHEMA.read_text())
    return {name: spec for group in schema["$defs"].values() for name, spec in group["properties"].items()}


def schema_default(param: str) -> Any:
    """The schema default of one pipeline parameter (None when it has none); KeyError for an unknown name."""
    return schema_properties()[param].get("default")


def apply_schema_defaults(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Set the default (and, for an enum, the choices) of every option in ``STEP_PARAMS`` from the schema, on
    ``parser``'s subcommands."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for step, options in STEP_PARAMS.items():
        step_parser = sub.choices[step]
        step_parser.set_defaults(**{dest: schema_default(param) for dest, param in options.items()})
        for action in step_parser._actions:
            enum = schema_properties()[options[action.dest]].get("enum") if action.dest in options else None
            if enum:
                action.choices = list(enum)
    return parser
