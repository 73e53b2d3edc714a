"""Plugin discovery: built-ins and third-party packages load the same way, through entry points."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from radplug.hookspecs import FeatureExtractor, GeneSetSource, Interpreter, ModelFamily, RadplugSpec

ENTRY_POINT_GROUP = "radplug"


class PluginError(Exception):
    """A plugin is broken, missing, or clashes with another."""


@dataclass(frozen=True)
class Provided:
    """One record a plugin provides, with the plugin and distribution it came from."""

    kind: str
    record: Any
    plugin: str
    package: str
    version: str


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


@functools.lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """Load every plugin registered under the ``radplug`` entry-point group (built-ins included)."""
    pm = pluggy.PluginManager("radplug")
    pm.add_hookspecs(RadplugSpec)
    dists: dict[str, tuple[str, str]] = {}
    for ep in _entry_points():
        try:
            module = ep.load()
        except Exception as exc:
            dist = ep.dist.name if ep.dist else "?"
            raise PluginError(
                f"plugin '{ep.name}' (package {dist}, entry point {ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}. Fix or uninstall that package (pip uninstall {dist})."
            ) from exc
        dist = ep.dist.name if ep.dist else "?"
        try:
            pm.register(module, name=ep.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(
                f"plugin '{ep.name}' (package {dist}, entry point {ep.value}) could not be registered: "
                f"{exc}. Hook names must be radplug_model_families, radplug_geneset_sources, "
                f"radplug_interpreters or radplug_feature_extractors, and each plugin name must be unique."
            ) from exc
        dists[ep.name] = (dist, ep.dist.version if ep.dist else "?")
    pm.radplug_dist = dists  # type: ignore[attr-defined]
    return pm


_HOOKS = {
    "model_family": ("radplug_model_families", ModelFamily),
    "geneset_source": ("radplug_geneset_sources", GeneSetSource),
    "interpreter": ("radplug_interpreters", Interpreter),
    "feature_extractor": ("radplug_feature_extractors", FeatureExtractor),
}


def provided(kind: str) -> list[Provided]:
    """All records of one kind (``model_family``, ``geneset_source``, ``interpreter``, ``feature_extractor``),
    checked."""
    hook_name, record_type = _HOOKS[kind]
    pm = plugin_manager()
    dists = getattr(pm, "radplug_dist", {})
    out: list[Provided] = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        plugin_name = pm.get_name(impl.plugin) or "?"
        package, version = dists.get(plugin_name, ("?", "?"))
        try:
            records = impl.function() or []
        except Exception as exc:
            raise PluginError(
                f"plugin '{plugin_name}' (package {package}) failed in {hook_name}(): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(records, (list, tuple)):
            raise PluginError(
                f"plugin '{plugin_name}' (package {package}) returned {type(records).__name__} from "
                f"{hook_name}(); expected a list of radplug.hookspecs.{record_type.__name__}"
            )
        for rec in records:
            if not isinstance(rec, record_type):
                raise PluginError(
                    f"plugin '{plugin_name}' (package {package}) returned {type(rec).__name__} from "
                    f"{hook_name}(); expected radplug.hookspecs.{record_type.__name__}"
                )
            out.append(Provided(kind, rec, plugin_name, package, version))
    by_name: dict[str, list[Provided]] = {}
    for p in out:
        by_name.setdefault(p.record.name, []).append(p)
    dupes = {n: ps for n, ps in by_name.items() if len(ps) > 1}
    if dupes:
        lines = [
            f"{kind} '{n}' is provided by " + ", ".join(f"plugin '{p.plugin}' ({p.package})" for p in ps)
            for n, ps in sorted(dupes.items())
        ]
        raise PluginError("duplicate plugin names: " + "; ".join(lines) + ". Uninstall one of them.")
    return sorted(out, key=lambda p: p.record.name)


def _records(kind: str) -> dict[str, Any]:
    """Every record of one plugin ``kind`` (see :func:`provided`), by name."""
    return {p.record.name: p.record for p in provided(kind)}


def model_families() -> dict[str, ModelFamily]:
    """Every model family, by name."""
    return _records("model_family")


def geneset_sources() -> dict[str, GeneSetSource]:
    """Every gene-set source, by name."""
    return _records("geneset_source")


def interpreters() -> dict[str, Interpreter]:
    """Every interpreter, by name."""
    return _records("interpreter")


def feature_extractors() -> dict[str, FeatureExtractor]:
    """Every radiomic feature extractor, by name."""
    return _records("feature_extractor")


_INSTALL_HINT = " Install the plugin that provides it (see `radplug plugins`)."


def _lookup(records: dict[str, Any], kind: str, name: str, hint: str = _INSTALL_HINT) -> Any:
    """``records[name]``; else a clear error naming the ``kind``, what is available and ``hint``."""
    if name not in records:
        raise PluginError(f"unknown {kind} '{name}'. Available: {', '.join(sorted(records)) or 'none'}.{hint}")
    return records[name]


def get_extractor(name: str) -> FeatureExtractor:
    """The feature extractor called ``name``; a clear error lists the available ones."""
    return _lookup(feature_extractors(), "feature extractor", name)


def get_interpreter(name: str) -> Interpreter:
    """The interpreter called ``name``; a clear error lists the available ones."""
    return _lookup(interpreters(), "interpreter", name)


def get_family(name: str) -> ModelFamily:
    """The model family called ``name``; a clear error lists the available ones."""
    return _lookup(model_families(), "model family", name)


def get_source(name: str) -> GeneSetSource:
    """The gene-set source called ``name``; a clear error lists the available ones."""
    return _lookup(geneset_sources(), "gene-set source", name, hint="")
