"""Built-in feature extractor: PyRadiomics (optional extra ``radplug[radiomics]``; imported only when used)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from radplug.hookspecs import FeatureExtractor, hookimpl
from radplug.io import RadplugInputError

INSTALL = "pip install 'radplug[radiomics]' (PyRadiomics, as the maintained fork pyradiomics-bhklab)"
SETTINGS_KEYS = ("imageType", "featureClass", "setting", "voxelSetting")

# PyRadiomics' own defaults: original image, every 3-D feature class, binWidth 25, no resampling.
PYRADIOMICS_DEFAULTS: dict[str, Any] = {
    "imageType": {"Original": {}},
    "featureClass": {c: None for c in ("shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")},
    "setting": {"binWidth": 25},
}

# An approximation of Aerts et al., Nat Commun 5:4006 (2014): shape, first-order, GLCM, GLRLM and GLSZM
# features on the original image, on Laplacian-of-Gaussian filtered images (sigma 0.5 to 5 mm, step 0.5)
# and on the 8 first-level wavelet decompositions (coif1); fixed bin width 25 HU; no resampling.
AERTS2014: dict[str, Any] = {
    "imageType": {
        "Original": {},
        "LoG": {"sigma": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0]},
        "Wavelet": {"wavelet": "coif1"},
    },
    "featureClass": {c: None for c in ("shape", "firstorder", "glcm", "glrlm", "glszm")},
    "setting": {"binWidth": 25, "interpolator": "sitkBSpline"},
}


def _require() -> None:
    try:
        import radiomics  # noqa: F401
        import SimpleITK  # noqa: F401
    except ImportError as exc:
        raise RadplugInputError(f"the pyradiomics feature extractor is not installed ({exc}); {INSTALL}") from exc


def pyradiomics_version() -> str:
    """The installed PyRadiomics version (e.g. ``v3.1.4``)."""
    _require()
    import radiomics

    return str(radiomics.__version__)


def read_pyradiomics_settings(path: str) -> dict[str, Any]:
    """A PyRadiomics parameter file (YAML or JSON) as a dict; top-level keys imageType, featureClass, setting,
    voxelSetting."""
    _require()
    from ruamel.yaml import YAML

    try:
        with open(path) as fh:
            data = YAML(typ="safe", pure=True).load(fh)
    except OSError as exc:
        raise RadplugInputError(f"{path}: cannot read the extraction settings file ({exc})") from exc
    except Exception as exc:
        raise RadplugInputError(f"{path}: not a valid YAML settings file ({exc})") from exc
    if not isinstance(data, dict):
        raise RadplugInputError(f"{path}: a settings file must be a mapping with keys {', '.join(SETTINGS_KEYS)}")
    unknown = [k for k in data if k not in SETTINGS_KEYS]
    if unknown:
        raise RadplugInputError(
            f"{path}: unknown top-level key(s) {', '.join(map(str, unknown))}; PyRadiomics settings files "
            f"have {', '.join(SETTINGS_KEYS)}"
        )
    return data


def pyradiomics_factory(settings: dict[str, Any]) -> Callable[..., dict[str, float]]:
    """A PyRadiomics extractor for ``settings``: ``extract(image, mask, label)`` -> numeric features."""
    _require()
    from radiomics import featureextractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    logging.getLogger("pykwalify").setLevel(logging.WARNING)
    try:
        ex = featureextractor.RadiomicsFeatureExtractor(dict(settings))
    except Exception as exc:
        raise RadplugInputError(f"PyRadiomics rejected the extraction settings: {exc}") from exc
    ex.settings["additionalInfo"] = True

    def extract(image: Any, mask: Any, label: int = 1) -> dict[str, float]:
        res = ex.execute(image, mask, label=int(label))
        return {k: float(v) for k, v in res.items() if not k.startswith("diagnostics_")}

    return extract


@hookimpl
def radplug_feature_extractors() -> list[FeatureExtractor]:
    return [
        FeatureExtractor(
            "pyradiomics",
            "PyRadiomics: shape, first-order and texture features, optionally on LoG/wavelet-filtered images",
            factory=pyradiomics_factory,
            presets={"pyradiomics": PYRADIOMICS_DEFAULTS, "aerts2014": AERTS2014},
            read_settings=read_pyradiomics_settings,
            version=pyradiomics_version,
            reference="van Griethuysen et al., Cancer Res 77(21):e104 (2017)",
            install=INSTALL,
        )
    ]
