"""Radiomic feature names: the 7 groups of Aerts et al. (2014) and the group of a feature name."""

from __future__ import annotations

import re

import pandas as pd

GROUPS = ("shape", "stats", "GLCM", "GLSZM", "RLGL", "LoG", "wavelet")

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


def feature_group(name: str, overrides: dict[str, str] | None = None) -> str:
    """Group of a radiomic feature from its name (``other`` when no rule matches)."""
    if overrides and name in overrides:
        return overrides[name]
    low = name.lower()
    for pattern, group in _RULES:
        if re.search(pattern, low):
            return group
    return "other"


def read_group_overrides(path: str | None) -> dict[str, str]:
    """An override mapping file: CSV with columns feature, group (group one of GROUPS or 'other')."""
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
    allowed = (*GROUPS, "other")
    for i, g in enumerate(df["group"]):
        if g not in allowed:
            raise RadplugInputError(
                f"{path}, row {i + 2}: group {g!r} of feature {df['feature'].iloc[i]!r} is not one of "
                f"{', '.join(allowed)}"
            )
    return dict(zip(df["feature"].str.strip(), df["group"], strict=True))


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
