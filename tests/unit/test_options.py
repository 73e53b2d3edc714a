"""One name and one default per parameter: nextflow_schema.json, nextflow.config, the steps' Options records
(radplug.options) and the modules' command lines agree. Adding a parameter means the schema (with the steps that take
it, ``x-radplug-steps``), nextflow.config and one Options record (or ``WORKFLOW_PARAMS``); these tests fail when any of
them drifts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import typing

import pytest
from conftest import REPO

from radplug.cli import build_parser, main
from radplug.options import OPTIONS, STEPS_KEY, WORKFLOW_PARAMS, schema_default, schema_properties

SCHEMA_TYPES = {"integer": int, "number": float, "string": str, "boolean": bool}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def _config_defaults() -> dict[str, object]:
    text = (REPO / "nextflow.config").read_text()
    block = text[text.index("params {"):text.index("\n}", text.index("params {"))]
    out: dict[str, object] = {}
    for name, raw in re.findall(r"^\s*(\w+)\s*=\s*(.+?)\s*$", block, flags=re.M):
        raw = raw.split("//")[0].strip()
        if raw in ("null",):
            out[name] = None
        elif raw in ("true", "false"):
            out[name] = raw == "true"
        elif raw[0] in "'\"":
            out[name] = raw[1:-1]
        else:
            out[name] = float(raw) if "." in raw else int(raw)
    return out


def test_every_parameter_is_a_step_option_or_a_workflow_parameter() -> None:
    mapped = {f.name for record in OPTIONS.values() for f in dataclasses.fields(record)}
    schema = set(schema_properties())
    assert schema - mapped - set(WORKFLOW_PARAMS) == set(), "parameters with no step option or workflow role"
    assert (mapped | set(WORKFLOW_PARAMS)) - schema == set(), "names that are not schema parameters"
    assert mapped & set(WORKFLOW_PARAMS) == set(), "a parameter is both a step option and a workflow parameter"


@pytest.mark.parametrize("step", sorted(OPTIONS))
def test_schema_lists_exactly_the_steps_of_each_record(step: str) -> None:
    """x-radplug-steps (what the workflow hands a module) names a step iff that step's record has the field."""
    tagged = {name for name, spec in schema_properties().items() if step in spec.get(STEPS_KEY, [])}
    assert tagged == {f.name for f in dataclasses.fields(OPTIONS[step])}, step


def test_nextflow_config_defaults_equal_the_schema() -> None:
    config = _config_defaults()
    assert set(config) == set(schema_properties())
    for name, value in config.items():
        expected = schema_default(name)
        assert value == expected, f"nextflow.config {name} = {value!r}, schema default {expected!r}"


@pytest.mark.parametrize("step", sorted(OPTIONS))
def test_record_fields_match_the_schema_in_name_type_default_and_enum(step: str) -> None:
    record = OPTIONS[step]
    hints = typing.get_type_hints(record)
    for f in dataclasses.fields(record):
        spec = schema_properties()[f.name]
        kind = SCHEMA_TYPES[spec["type"]]
        expected = kind if "default" in spec and spec["default"] is not None else kind | None
        assert hints[f.name] == expected, f"{record.__name__}.{f.name}: {hints[f.name]} vs schema {expected}"
        assert f.default == spec.get("default"), f"{record.__name__}.{f.name}: default {f.default!r}"
    defaults = record()
    for f in dataclasses.fields(record):
        assert getattr(defaults, f.name) == spec_default(f.name)


def spec_default(name: str) -> object:
    value = schema_default(name)
    return float(value) if schema_properties()[name]["type"] == "number" and value is not None else value


@pytest.mark.parametrize("step", sorted(OPTIONS))
def test_step_command_line_is_generated_from_the_record(step: str) -> None:
    sub = _subparsers()[step]
    actions = {a.dest: a for a in sub._actions}
    for f in dataclasses.fields(OPTIONS[step]):
        spec = schema_properties()[f.name]
        action = actions[f.name]
        assert action.option_strings[0] == "--" + f.name.replace("_", "-")
        if spec.get("enum"):
            assert list(action.choices) == list(spec["enum"]), (step, f.name)
        if spec["type"] == "boolean":
            assert "--no-" + f.name.replace("_", "-") in action.option_strings
    assert "options_json" in actions, f"radplug {step} takes no --options"


def test_options_json_flags_and_schema_defaults_in_that_order(tmp_path) -> None:
    """schema default < --options JSON (the module's group) < a flag given by hand; a wrong name or value refused."""
    from radplug.options import resolve_options

    parser = build_parser()
    base = ["mask", "--model", "m", "--expression", "e", "--targets", "t", "--outdir", "o", "--genesets", "a=b"]
    o = resolve_options(parser.parse_args(base))
    assert (o.mask_n_random, o.mask_fdr_scope) == (schema_default("mask_n_random"), schema_default("mask_fdr_scope"))
    given = json.dumps({"mask_n_random": 7, "mask_fdr_scope": "run", "seed": 3})
    o = resolve_options(parser.parse_args([*base, "--options", given]))
    assert (o.mask_n_random, o.mask_fdr_scope, o.seed) == (7, "run", 3)
    o = resolve_options(parser.parse_args([*base, "--options", given, "--mask-n-random", "9"]))
    assert (o.mask_n_random, o.seed) == (9, 3)
    with pytest.raises(ValueError, match="takes no option --mask_n_randoms"):
        resolve_options(parser.parse_args([*base, "--options", json.dumps({"mask_n_randoms": 7})]))
    with pytest.raises(ValueError, match="--mask_n_random must be at least 1, got 0.*--seed must be an integer"):
        resolve_options(parser.parse_args([*base, "--mask-n-random", "0", "--seed", "x"]))
    # through the command line: exit status 2 and the message, nothing written
    assert main([*base, "--options", json.dumps({"mask_null_bins": -1})]) == 2
    assert not (tmp_path / "o").exists()


def test_workflow_hands_each_module_its_steps_option_group() -> None:
    """The workflow and its subworkflows build every option group with stepOptions(<step>), for exactly the steps
    with a record, and write no parameter of a record into a hand-made options map."""
    files = [REPO / "workflows" / "radplug.nf", *sorted((REPO / "subworkflows" / "local").glob("*/main.nf"))]
    text = "\n".join(f.read_text() for f in files)
    used = set(re.findall(r"stepOptions\('([a-z-]+)'\)", text))
    assert used == set(OPTIONS), f"steps without a stepOptions(...) call: {set(OPTIONS) ^ used}"
    fields = {f.name for record in OPTIONS.values() for f in dataclasses.fields(record)}
    literal_maps = re.findall(r"\b(\w+): params\.(\w+)", text)
    assert not [m for m in literal_maps if m[1] in fields], f"hand-made option maps: {literal_maps}"


def _module_commands() -> list[tuple[str, str, str]]:
    """(module, radplug step, flag) for every flag a module's script can put on a ``radplug-<step>`` command line:
    flags on the command's own (continued) lines, and flags in the string literals of the script's ``def`` lines
    (optional arguments), which belong to the module's main command."""
    found = []
    for path in sorted((REPO / "modules" / "local").glob("*/main.nf")):
        lines = path.read_text().splitlines()
        main = next(m.group(1) for line in lines for m in [re.search(r"radplug-([a-z-]+)", line)]
                    if m and m.group(1) != "versions" and not line.strip().startswith("def "))
        step = None
        for line in lines:
            m = re.search(r"radplug-([a-z-]+)", line)
            if m:
                step = m.group(1)
            elif line.strip().startswith("def ") and "--" in line:
                found += [(path.parent.name, main, f) for f in re.findall(r"[\"'](--[a-z][a-z-]*)", line)]
            if step and step != "versions":
                found += [(path.parent.name, step, f) for f in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line)]
            if not line.rstrip().endswith("\\"):
                step = None
    return found


def test_module_command_lines_use_existing_options() -> None:
    subs = _subparsers()
    flags = _module_commands()
    assert len({m for m, _, _ in flags}) >= 12
    for module, step, flag in flags:
        name = step
        assert name in subs, f"{module}: radplug-{step} is not a radplug command"
        options = {o for a in subs[name]._actions for o in a.option_strings}
        assert flag in options, f"modules/local/{module}: radplug-{step} has no option {flag}"


def test_every_step_with_a_record_gets_its_group_as_json() -> None:
    passed = {step for _, step, flag in _module_commands() if flag == "--options"}
    assert passed == set(OPTIONS), f"modules not passing --options: {set(OPTIONS) - passed}"
