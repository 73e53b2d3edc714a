"""Software versions of one pipeline process, nf-core style (``versions.yml``), read from the installed
distributions: nothing heavy is imported, so recording versions costs a task well under a second."""

from __future__ import annotations

import sys
from importlib import metadata

from radplug import __version__

#: Packages whose versions each process records. The CUDA runtime is the one the torch wheel was built against
#: (in the CUDA image, the one the GPU tasks run with).
VERSIONED_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "torch", "nvidia-cuda-runtime-cu12",
                      "pyradiomics-bhklab", "SimpleITK", "pyarrow")
_SHOWN_AS = {"nvidia-cuda-runtime-cu12": "cuda-runtime", "pyradiomics-bhklab": "pyradiomics"}


def software_versions(process: str) -> str:
    """YAML of one process: radplug, Python and every installed package of ``VERSIONED_PACKAGES``."""
    lines = [f'"{process}":', f"    radplug: {__version__}", f"    python: {sys.version.split()[0]}"]
    for package in VERSIONED_PACKAGES:
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
        lines.append(f"    {_SHOWN_AS.get(package, package)}: {version}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``radplug-versions --process NAME``: print the YAML (the pipeline's per-process entry point)."""
    import argparse

    parser = argparse.ArgumentParser(prog="radplug-versions", description=__doc__)
    parser.add_argument("--process", default="RADPLUG")
    sys.stdout.write(software_versions(parser.parse_args(argv).process))
    return 0
