"""Reference values for feature extraction: PyRadiomics' own baseline (its test cases) and the rule its test
suite applies (relative difference below 3 %, exact where the baseline is 0)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pandas as pd

BASELINE_CLASSES = ("firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
REL_TOLERANCE = 0.03   # PyRadiomics tests/testUtils.py: assert percentDiff < 0.03


def baseline_case(baseline_dir: str | Path, case: str) -> tuple[dict[str, Any], dict[str, float]]:
    """PyRadiomics' baseline for one test case: (settings file dict, {feature: value}) over the 3-D classes.

    The settings are the ones the baseline records for that case (``diagnostics_Configuration_Settings``,
    identical across classes); unset (None) settings are left at PyRadiomics' defaults."""
    settings: dict[str, Any] | None = None
    values: dict[str, float] = {}
    for cls in BASELINE_CLASSES:
        df = pd.read_csv(Path(baseline_dir) / f"baseline_{cls}.csv", index_col=0, dtype=str)
        if case not in df.columns:
            raise ValueError(f"{baseline_dir}: no baseline column '{case}' for class {cls}")
        col = df[case]
        s = ast.literal_eval(col["diagnostics_Configuration_Settings"])
        s = {k: v for k, v in s.items() if v is not None}
        if settings is not None and s != settings:
            raise ValueError(f"{baseline_dir}: case {case} has different settings in class {cls}")
        settings = s
        for name, v in col.items():
            if not str(name).startswith("diagnostics_") and isinstance(v, str) and v.strip():
                values[str(name)] = float(v)
    assert settings is not None
    conf = {"imageType": {"Original": {}}, "featureClass": {c: None for c in BASELINE_CLASSES}, "setting": settings}
    return conf, values


def compare_to_baseline(values: dict[str, float], baseline: dict[str, float]) -> pd.DataFrame:
    """One row per baseline feature: value, baseline, relative difference and whether PyRadiomics' own test
    would pass it (a feature missing from ``values`` fails)."""
    rows = []
    for name, ref in baseline.items():
        v = values.get(name, float("nan"))
        if ref == 0.0:
            diff = 0.0 if v == 0.0 else 1.0
        else:
            diff = abs(1.0 - v / ref)
        rows.append({"feature": name, "value": v, "baseline": ref, "rel_diff": diff,
                     "ok": bool(diff < REL_TOLERANCE)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- IBSI-1 (Zwanenburg et al. 2020)
def _ibsi_config(**setting: Any) -> dict[str, Any]:
    """A PyRadiomics settings dict for an IBSI-1 chest CT configuration: original image, every 3-D class, fixed
    bin size 25 HU, no intensity shift, label 1, plus the configuration's own ``setting`` entries."""
    return {"imageType": {"Original": {}}, "featureClass": {c: None for c in BASELINE_CLASSES},
            "setting": {**setting, "binWidth": 25, "voxelArrayShift": 0, "label": 1}}


# IBSI-1 chest CT configuration A: no resampling, resegmentation to [-500, 400] HU, texture in-plane (PyRadiomics
# force2D: matrices over the in-plane directions of all slices = IBSI "2.5D").
IBSI_CONFIG_A = _ibsi_config(force2D=True, force2Ddimension=0, resegmentRange=[-500, 400])
# IBSI-1 chest CT configuration C: 3-D, isotropic 2 mm resampling (trilinear), resegmentation to [-1000, 400] HU;
# GLCM and GLRLM features averaged over the 13 directions ("3D_avg").
IBSI_CONFIG_C = _ibsi_config(resampledPixelSpacing=[2, 2, 2], interpolator="sitkLinear",
                             resegmentRange=[-1000, 400])

# PyRadiomics class -> (IBSI family, {PyRadiomics feature: IBSI tag stem}); suffixes per family below.
_IBSI_FAMILIES: dict[str, tuple[str, dict[str, str]]] = {
    "shape": ("morphology", {
        "MeshVolume": "morph_volume", "VoxelVolume": "morph_vol_approx", "SurfaceArea": "morph_area_mesh",
        "SurfaceVolumeRatio": "morph_av", "Sphericity": "morph_sphericity", "Maximum3DDiameter": "morph_diam",
        "MajorAxisLength": "morph_pca_maj_axis", "MinorAxisLength": "morph_pca_min_axis",
        "LeastAxisLength": "morph_pca_least_axis", "Elongation": "morph_pca_elongation",
        "Flatness": "morph_pca_flatness"}),
    "firstorder": ("intensity statistics / histogram", {
        "Mean": "stat_mean", "Variance": "stat_var", "Skewness": "stat_skew", "Kurtosis": "stat_kurt",
        "Median": "stat_median", "Minimum": "stat_min", "10Percentile": "stat_p10", "90Percentile": "stat_p90",
        "Maximum": "stat_max", "InterquartileRange": "stat_iqr", "Range": "stat_range",
        "MeanAbsoluteDeviation": "stat_mad", "RobustMeanAbsoluteDeviation": "stat_rmad", "Energy": "stat_energy",
        "RootMeanSquared": "stat_rms", "Entropy": "ih_entropy", "Uniformity": "ih_uniformity"}),
    "glcm": ("GLCM", {
        "MaximumProbability": "cm_joint_max", "JointAverage": "cm_joint_avg", "SumSquares": "cm_joint_var",
        "JointEntropy": "cm_joint_entr", "DifferenceAverage": "cm_diff_avg", "DifferenceVariance": "cm_diff_var",
        "DifferenceEntropy": "cm_diff_entr", "SumAverage": "cm_sum_avg", "SumEntropy": "cm_sum_entr",
        "JointEnergy": "cm_energy", "Contrast": "cm_contrast", "Id": "cm_inv_diff", "Idn": "cm_inv_diff_norm",
        "Idm": "cm_inv_diff_mom", "Idmn": "cm_inv_diff_mom_norm", "InverseVariance": "cm_inv_var",
        "Correlation": "cm_corr", "Autocorrelation": "cm_auto_corr", "ClusterTendency": "cm_clust_tend",
        "ClusterShade": "cm_clust_shade", "ClusterProminence": "cm_clust_prom", "Imc1": "cm_info_corr1",
        "Imc2": "cm_info_corr2"}),
    "glrlm": ("GLRLM", {
        "ShortRunEmphasis": "rlm_sre", "LongRunEmphasis": "rlm_lre", "LowGrayLevelRunEmphasis": "rlm_lgre",
        "HighGrayLevelRunEmphasis": "rlm_hgre", "ShortRunLowGrayLevelEmphasis": "rlm_srlge",
        "ShortRunHighGrayLevelEmphasis": "rlm_srhge", "LongRunLowGrayLevelEmphasis": "rlm_lrlge",
        "LongRunHighGrayLevelEmphasis": "rlm_lrhge", "GrayLevelNonUniformity": "rlm_glnu",
        "GrayLevelNonUniformityNormalized": "rlm_glnu_norm", "RunLengthNonUniformity": "rlm_rlnu",
        "RunLengthNonUniformityNormalized": "rlm_rlnu_norm", "RunPercentage": "rlm_r_perc",
        "GrayLevelVariance": "rlm_gl_var", "RunVariance": "rlm_rl_var", "RunEntropy": "rlm_rl_entr"}),
    "glszm": ("GLSZM", {
        "SmallAreaEmphasis": "szm_sze", "LargeAreaEmphasis": "szm_lze", "LowGrayLevelZoneEmphasis": "szm_lgze",
        "HighGrayLevelZoneEmphasis": "szm_hgze", "SmallAreaLowGrayLevelEmphasis": "szm_szlge",
        "SmallAreaHighGrayLevelEmphasis": "szm_szhge", "LargeAreaLowGrayLevelEmphasis": "szm_lzlge",
        "LargeAreaHighGrayLevelEmphasis": "szm_lzhge", "GrayLevelNonUniformity": "szm_glnu",
        "GrayLevelNonUniformityNormalized": "szm_glnu_norm", "SizeZoneNonUniformity": "szm_zsnu",
        "SizeZoneNonUniformityNormalized": "szm_zsnu_norm", "ZonePercentage": "szm_z_perc",
        "GrayLevelVariance": "szm_gl_var", "ZoneVariance": "szm_zs_var", "ZoneEntropy": "szm_zs_entr"}),
    "gldm": ("NGLDM (PyRadiomics GLDM)", {
        "SmallDependenceEmphasis": "ngl_lde", "LargeDependenceEmphasis": "ngl_hde",
        "LowGrayLevelEmphasis": "ngl_lgce", "HighGrayLevelEmphasis": "ngl_hgce",
        "SmallDependenceLowGrayLevelEmphasis": "ngl_ldlge", "SmallDependenceHighGrayLevelEmphasis": "ngl_ldhge",
        "LargeDependenceLowGrayLevelEmphasis": "ngl_hdlge", "LargeDependenceHighGrayLevelEmphasis": "ngl_hdhge",
        "GrayLevelNonUniformity": "ngl_glnu", "DependenceNonUniformity": "ngl_dcnu",
        "DependenceNonUniformityNormalized": "ngl_dcnu_norm", "GrayLevelVariance": "ngl_gl_var",
        "DependenceVariance": "ngl_dc_var", "DependenceEntropy": "ngl_dc_entr"}),
    "ngtdm": ("NGTDM", {
        "Coarseness": "ngt_coarseness", "Contrast": "ngt_contrast", "Busyness": "ngt_busyness",
        "Complexity": "ngt_complexity", "Strength": "ngt_strength"}),
}
# IBSI tag suffix per texture class: GLCM/GLRLM averaged over directions, the others merged
IBSI_SUFFIX_3D = {c: "_3D" + ("_avg" if c in ("glcm", "glrlm") else "") for c in BASELINE_CLASSES[2:]}
IBSI_SUFFIX_25D = {c: v.replace("_3D", "_2_5D") for c, v in IBSI_SUFFIX_3D.items()}
IBSI_CONFIGS = {"A": (IBSI_CONFIG_A, IBSI_SUFFIX_25D), "C": (IBSI_CONFIG_C, IBSI_SUFFIX_3D)}
# definitions that differ by a constant: PyRadiomics' kurtosis is not the excess kurtosis IBSI reports
_IBSI_SHIFT = {"stat_kurt": -3.0}


def read_ibsi_reference(path: str | Path) -> dict[str, tuple[float, float]]:
    """An IBSI-1 reference-value file (``reference value;tolerance;tag``) as {tag: (value, tolerance)}."""
    df = pd.read_csv(path, sep=";")
    return {str(t): (float(v), float(tol)) for v, tol, t in df[["reference value", "tolerance", "tag"]].itertuples(
        index=False)}


def within_ibsi(value: float, reference: float, tolerance: float) -> bool:
    """IBSI agreement: |value - reference| <= tolerance, where the tolerance is at least the rounding of the
    reference to 3 significant digits (IBSI reports 3)."""
    import math

    rounding = 0.5 * 10 ** (math.floor(math.log10(abs(reference))) - 2) if reference else 0.0
    return bool(abs(value - reference) <= max(tolerance, rounding) + 1e-12)


def ibsi_agreement(features: dict[str, float], reference: dict[str, tuple[float, float]],
                   suffix: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per mapped feature: family, PyRadiomics name, IBSI tag, value, reference, tolerance, within.
    ``suffix``: the IBSI tag suffix per texture class (3-D averaged by default)."""
    suffix = IBSI_SUFFIX_3D if suffix is None else suffix
    rows = []
    for cls, (family, names) in _IBSI_FAMILIES.items():
        for name, stem in names.items():
            tag = stem + suffix.get(cls, "")
            if tag not in reference:
                continue
            value = features.get(f"original_{cls}_{name}", float("nan")) + _IBSI_SHIFT.get(stem, 0.0)
            ref, tol = reference[tag]
            rows.append({"family": family, "feature": f"original_{cls}_{name}", "ibsi_tag": tag, "value": value,
                         "reference": ref, "tolerance": tol, "within": within_ibsi(value, ref, tol)})
    return pd.DataFrame(rows)


def ibsi_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per family: features compared, within tolerance, and their share."""
    out = table.groupby("family", sort=False)["within"].agg(compared="size", within="sum").reset_index()
    out["share"] = out["within"] / out["compared"]
    return out
