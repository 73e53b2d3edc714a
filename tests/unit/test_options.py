"""One name and one default per parameter: nextflow_schema.json, nextflow.config, the steps' options (radplug.options)
and the modules' command lines agree. Adding a parameter means the schema, nextflow.config and one entry of
``STEP_PARAMS`` (or ``WORKFLOW_PARAMS``); these tests fail when any of them drifts."""

from __future__ import annotations

import argparse
import re

import pytest
from conftest import REPO

from radplug.cli import build_parser
from radplug.options import STEP_PARAMS, WORKFLOW_PARAMS, schema_default, schema_properties


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
    mapped = {p for options in STEP_PARAMS.values() for p in options.values()}
    schema = set(schema_properties())
    assert schema - mapped - set(WORKFLOW_PARAMS) == set(), "parameters with no step option or workflow role"
    assert (mapped | set(WORKFLOW_PARAMS)) - schema == set(), "names that are not schema parameters"


def test_nextflow_config_defaults_equal_the_schema() -> None:
    config = _config_defaults()
    assert set(config) == set(schema_properties())
    for name, value in config.items():
        expected = schema_default(name)
        assert value == expected, f"nextflow.config {name} = {value!r}, schema default {expected!r}"


@pytest.mark.parametrize("step", sorted(STEP_PARAMS))
def test_step_options_default_type_and_choices_from_the_schema(step: str) -> None:
    sub = _subparsers()[step]
    actions = {a.dest: a for a in sub._actions}
    for dest, param in STEP_PARAMS[step].items():
        assert dest in actions, f"radplug {step} has no option for --{param} ({dest})"
        spec = schema_properties()[param]
        default = sub.get_default(dest)
        assert default == spec.get("default"), f"radplug {step} {dest}: {default!r} vs schema {spec.get('default')!r}"
        action = actions[dest]
        if spec.get("enum"):
            assert action.choices is not None and set(action.choices) == set(spec["enum"]), (step, dest)
        if default is not None and action.type is not None:
            assert action.type(str(default)) == default, f"radplug {step} {dest}: its type refuses the default"
        if spec.get("type") == "boolean":
            assert action.nargs == 0, f"radplug {step} {dest}: a boolean parameter is a flag"


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
