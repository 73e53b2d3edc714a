"""Radiomic feature names: PyRadiomics image types and feature classes, the 7 groups of Aerts et al. (2014), the
group of a feature name, and the selection of features before binarization (``--radiomics_include`` /
``--radiomics_exclude`` / ``--radiomics_max_correlation``)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

GROUPS = ("shape", "stats", "GLCM", "GLSZM", "RLGL", "LoG", "wavelet")
CLASSES = ("shape", "shape2D", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
# PyRadiomics image types (feature names `<image type>_<class>_<feature>`)
IMAGE_TYPE_PATTERN = (r"original|log-sigma-\d+-\d+-mm-[23]D|wavelet-[LH]+|square|squareroot|logarithm|"
                      r"exponential|gradient|lbp-2D|lbp-3D-(?:m\d+|k)")
_PYRADIOMICS = re.compile(rf"^({IMAGE_TYPE_PATTERN})_({'|'.join(CLASSES)})_(.+)$", re.IGNORECASE)
_CLASS_CASE = {c.lower(): c for c in CLASSES}

# order matters: LoG and wavelet names contain texture names (e.g. wavelet_HHH_GLCM_...)
_RULES: list[tuple[str, str]] = [
    (r"(^|[_\-. ])(log|laplacian)([_\-. ]|$)|log[-_]sigma", "LoG"),
    (r"wavelet", "wavelet"),
    (r"glcm", "GLCM"),
    (r"glszm|sizezone", "GLSZM"),
    (r"glrlm|rlgl|runlength", "RLGL"),
    (r"shape", "shape"),
    (r"stats|firstorder|first_order|intensity", "stats"),
]
# the feature class of an Aerts-style (or other free-form) name
_CLASS_RULES: list[tuple[str, str]] = [
    (r"glcm", "glcm"), (r"glszm|sizezone", "glszm"), (r"glrlm|rlgl|runlength", "glrlm"), (r"gldm", "gldm"),
    (r"ngtdm", "ngtdm"), (r"shape", "shape"), (r"stats|firstorder|first_order|intensity", "firstorder"),
]
_AERTS_LOG = re.compile(r"^log[_-]sigma[_-](\d+)(?:[_-](\d+))?[_-]mm[_-]([23]D)(?:[_-]|$)", re.IGNORECASE)
_AERTS_WAVELET = re.compile(r"^wavelet[_-]([LH]{1,3})(?:[_-]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class FeatureName:
    """A radiomic feature name parsed: image type and class ('' when unknown), its group and naming style."""

    name: str
    image_type: str
    feature_class: str
    group: str
    style: str        # pyradiomics | aerts | other


def parse_feature_name(name: str) -> FeatureName:
    """Image type, feature class and group of a feature name.

    PyRadiomics names (``<image type>_<class>_<feature>``, e.g. ``log-sigma-0-5-mm-3D_gldm_DependenceEntropy``)
    get the group ``<image type>_<class>`` (the unit of a group network); other names (Aerts-style
    ``GLCM_contrast``, ``wavelet_HHH_stats_entropy``) keep the paper's 7 groups, ``other`` when none matches."""
    m = _PYRADIOMICS.match(name)
    if m:
        itype, cls = m.group(1), _CLASS_CASE[m.group(2).lower()]
        if itype.lower() in ("original", "square", "squareroot", "logarithm", "exponential", "gradient"):
            itype = itype.lower()
        return FeatureName(name, itype, cls, f"{itype}_{cls}", "pyradiomics")
    low = name.lower()
    group = next((g for pattern, g in _RULES if re.search(pattern, low)), "other")
    itype, rest = "original", low
    if (lm := _AERTS_LOG.match(name)) is not None:
        itype, rest = f"log-sigma-{lm.group(1)}-{lm.group(2) or '0'}-mm-{lm.group(3)}", low[lm.end():]
    elif (wm := _AERTS_WAVELET.match(name)) is not None:
        itype, rest = f"wavelet-{wm.group(1).upper()}", low[wm.end():]
    cls = next((c for pattern, c in _CLASS_RULES if re.search(pattern, rest)), "")
    if group == "other":
        return FeatureName(name, itype if cls else "", cls, "other", "other")
    return FeatureName(name, itype, cls, group, "aerts")


def feature_group(name: str, overrides: dict[str, str] | None = None) -> str:
    """Group of a radiomic feature from its name (:func:`parse_feature_name`; ``other`` when nothing matches)."""
    if overrides and name in overrides:
        return overrides[name]
    return parse_feature_name(name).group


def _valid_group(group: str) -> bool:
    """One of the 7 Aerts groups, ``other``, or ``<image type>_<class>``."""
    if group in (*GROUPS, "other"):
        return True
    return re.fullmatch(rf"({IMAGE_TYPE_PATTERN})_({'|'.join(CLASSES)})", group) is not None


def read_group_overrides(path: str | None) -> dict[str, str]:
    """An override mapping file: CSV with columns feature, group (one of GROUPS, 'other' or
    '<image type>_<class>', e.g. 'original_glcm')."""
    if not path:
        return {}
    from radplug.io import RadplugInputError

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise RadplugInputError(f"{path}: not a readable CSV feature-group override file ({exc})") from exc
    if not {"feature", "group"} <= set(df.columns):
        raise RadplugInputError(
            f"{path}: a feature-group override file needs columns feature, group; found {list(df.columns)}"
        )
    for i, g in enumerate(df["group"]):
        if not _valid_group(g):
            raise RadplugInputError(
                f"{path}, row {i + 2}: group {g!r} of feature {df['feature'].iloc[i]!r} is not one of "
                f"{', '.join((*GROUPS, 'other'))} or <image type>_<class> (e.g. original_glcm, wavelet-HHH_ngtdm)"
            )
    return dict(zip(df["feature"].str.strip(), df["group"], strict=True))


# --------------------------------------------------------------------------- selection before binarization
PRESETS: dict[str, str] = {
    # the paper's universe (Aerts et al. 2014 features): original, LoG sigma 0.5 mm, wavelet HHH
    "paper": "type:original,type:log-sigma-0-5-mm-*,type:wavelet-HHH",
}
FILTER_KEYS = ("type", "class", "name", "preset")
SELECTION_COLUMNS = ["feature", "image_type", "feature_class", "group", "kept", "reason", "partner", "rho"]


def parse_filter(spec: str | None, option: str) -> list[list[tuple[str, str]]]:
    """A filter as a list of terms (OR), each a list of (key, glob) conditions (AND).

    Syntax: comma-separated terms; a term is ``key:glob`` or several joined by ``+`` (all must match); keys
    ``type`` (image type), ``class`` (feature class), ``name`` (the whole feature name), ``preset`` (a named
    list, e.g. ``preset:paper``). Globs (``*``, ``?``, ``[..]``) match case-insensitively."""
    from radplug.io import RadplugInputError

    terms: list[list[tuple[str, str]]] = []
    for raw in (spec or "").split(","):
        term = raw.strip()
        if not term:
            continue
        conds = []
        for part in term.split("+"):
            key, sep, glob = part.strip().partition(":")
            key, glob = key.strip().lower(), glob.strip()
            if not sep or key not in FILTER_KEYS or not glob:
                raise RadplugInputError(
                    f"{option}: {part.strip()!r} in term {term!r} is not key:pattern; write type:<image type>, "
                    f"class:<feature class>, name:<name pattern> or preset:<{'|'.join(PRESETS)}> (globs allowed, "
                    "terms separated by ',', conditions of one term joined by '+'), e.g. "
                    "'type:original,type:wavelet-HHH+class:glcm'"
                )
            if key == "preset":
                if glob.lower() not in PRESETS or len(term.split("+")) > 1:
                    raise RadplugInputError(
                        f"{option}: unknown or combined preset {term!r}; presets (each a term of its own): "
                        + ", ".join(f"preset:{k} = {v}" for k, v in PRESETS.items())
                    )
                terms += parse_filter(PRESETS[glob.lower()], option)
                conds = []
                break
            conds.append((key, glob.lower()))
        if conds:
            terms.append(conds)
    return terms


def _term_text(term: list[tuple[str, str]]) -> str:
    return "+".join(f"{k}:{g}" for k, g in term)


def _matches(f: FeatureName, term: list[tuple[str, str]]) -> bool:
    values = {"type": f.image_type.lower(), "class": f.feature_class.lower(), "name": f.name.lower()}
    return all(fnmatch.fnmatchcase(values[k], g) for k, g in term)


def filter_features(names: list[str], include: str | None, exclude: str | None) -> pd.DataFrame:
    """The include/exclude filter of feature names: one row per name (columns SELECTION_COLUMNS; ``kept``,
    and ``reason`` for a dropped feature). No include filter keeps every name the exclude filter leaves."""
    inc, exc = parse_filter(include, "--radiomics_include"), parse_filter(exclude, "--radiomics_exclude")
    rows = []
    for n in names:
        f = parse_feature_name(n)
        reason = ""
        if inc and not any(_matches(f, t) for t in inc):
            reason = "matches no --radiomics_include term"
        else:
            hit = next((t for t in exc if _matches(f, t)), None)
            if hit is not None:
                reason = f"matches --radiomics_exclude term {_term_text(hit)}"
        rows.append({"feature": n, "image_type": f.image_type, "feature_class": f.feature_class,
                     "group": f.group, "kept": not reason, "reason": reason, "partner": "", "rho": np.nan})
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS)


def spearman_matrix(values: pd.DataFrame) -> np.ndarray:
    """Spearman correlation of the columns (ranks within each column, Pearson of the ranks on the samples both
    columns have; NaN for a constant column)."""
    ranks = values.rank(axis=0, method="average", na_option="keep")
    if not ranks.isna().to_numpy().any():
        r = ranks.to_numpy(dtype=np.float64)
        r = r - r.mean(axis=0)
        norm = np.sqrt((r * r).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.clip((r.T @ r) / np.outer(norm, norm), -1.0, 1.0)
    return ranks.corr(method="pearson", min_periods=3).to_numpy()


def near_duplicates(train: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Greedy removal of near-duplicate features on the training cohort: in column order, a feature is dropped
    when its |Spearman rho| with an already kept feature exceeds ``threshold``. Returns feature, kept,
    partner (the kept feature it correlates with most) and rho (signed) for every column."""
    names = list(train.columns)
    rho = spearman_matrix(train) if names else np.zeros((0, 0))
    absr = np.nan_to_num(np.abs(rho), nan=0.0)
    kept_idx: list[int] = []
    rows = []
    for j, n in enumerate(names):
        if kept_idx:
            k = kept_idx[int(np.argmax(absr[j, kept_idx]))]
            if absr[j, k] > threshold:
                rows.append({"feature": n, "kept": False, "partner": names[k], "rho": float(rho[j, k])})
                continue
        kept_idx.append(j)
        rows.append({"feature": n, "kept": True, "partner": "", "rho": np.nan})
    return pd.DataFrame(rows, columns=["feature", "kept", "partner", "rho"])


# Aerts-style names used by the simulator, 6 per group
AERTS_NAMES: dict[str, list[str]] = {
    "shape": [
        "shape_Compactness1",
        "shape_Compactness2",
        "shape_Maximum3DDiameter",
        "shape_SphericalDisproportion",
        "shape_Sphericity",
        "shape_SurfaceToVolumeRatio",
    ],
    "stats": [
        "stats_Energy",
        "stats_Entropy",
        "stats_Kurtosis",
        "stats_Skewness",
        "stats_Uniformity",
        "stats_Variance",
    ],
    "GLCM": [
        "GLCM_entrop2",
        "GLCM_diffEntro",
        "GLCM_invDiffmomnor",
        "GLCM_contrast",
        "GLCM_homogeneity1",
        "GLCM_correlation",
    ],
    "GLSZM": [
        "GLSZM_largeAreaEmphasis",
        "GLSZM_smallAreaEmphasis",
        "GLSZM_sizeZoneVariability",
        "GLSZM_zonePercentage",
        "GLSZM_intensityVariability",
        "GLSZM_lowIntensityEmphasis",
    ],
    "RLGL": [
        "RLGL_runPercentage",
        "RLGL_shortRunEmphasis",
        "RLGL_longRunEmphasis",
        "RLGL_grayLevelNonuniformity",
        "RLGL_runLengthNonuniformity",
        "RLGL_highGrayLevelRunEmphasis",
    ],
    "LoG": [
        "LoG_sigma_0_5_mm_2D_stats_entropy",
        "LoG_sigma_0_5_mm_2D_stats_mean",
        "LoG_sigma_1_mm_2D_stats_kurtosis",
        "LoG_sigma_2_mm_2D_stats_uniformity",
        "LoG_sigma_3_mm_2D_stats_skewness",
        "LoG_sigma_5_mm_2D_stats_energy",
    ],
    "wavelet": [
        "wavelet_HHH_GLCM_diffEntro",
        "wavelet_HHH_stats_entropy",
        "wavelet_HHH_RLGL_runPercentage",
        "wavelet_HHH_GLSZM_zonePercentage",
        "wavelet_HHH_GLCM_contrast",
        "wavelet_HHH_stats_energy",
    ],
}
