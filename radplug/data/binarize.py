"""BINARIZE: 2-means per radiomic feature on the training cohort; clinical targets become class labels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from radplug.data.radiomics import feature_group, parse_feature_name


def two_means_1d(values: np.ndarray) -> tuple[float, float]:
    """Exact 2-means of 1-D data (minimal within-cluster sum of squares): the two centres, low first."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = len(v)
    csum, csq = np.cumsum(v), np.cumsum(v * v)
    k = np.arange(1, n)                        # left cluster sizes
    left_ss = csq[:-1] - csum[:-1] ** 2 / k
    right_sum, right_sq = csum[-1] - csum[:-1], csq[-1] - csq[:-1]
    right_ss = right_sq - right_sum ** 2 / (n - k)
    valid = v[1:] > v[:-1]                     # split only between distinct values
    cost = np.where(valid, left_ss + right_ss, np.inf)
    i = int(np.argmin(cost))
    return float(v[: i + 1].mean()), float(v[i + 1:].mean())


def binarize(labels: pd.DataFrame, features: pd.DataFrame, min_minority: float = 0.10,
             group_overrides: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (targets, tasks, binarization).

    targets: sample_id, cohort and one column per kept target (radiomic: 'low'/'high'; clinical: class).
    tasks: target, kind (binary|multiclass), group, classes (JSON), n_train per class, id (file-safe id).
    binarization: per radiomic feature, its image type and class, the centres, threshold, class frequencies and
    whether kept.
    """
    lab = labels.set_index("sample_id")
    train = lab["cohort"] == "train"
    columns: dict[str, pd.Series] = {}      # target -> its class column, joined in one concat (many targets)
    tasks, rows = [], []
    for _, f in features.iterrows():
        name = f["name"]
        col = lab[name]
        if f["kind"] == "radiomic":
            vals = pd.to_numeric(col, errors="coerce")
            tr = vals[train].dropna().to_numpy()
            group = feature_group(name, group_overrides)
            parsed = parse_feature_name(name)
            lo, hi = two_means_1d(tr)
            thr = (lo + hi) / 2
            cls = pd.Series(np.where(vals.isna(), None, np.where(vals > thr, "high", "low")), index=lab.index,
                            dtype=object)
            frac_high = float((cls[train] == "high").mean())
            minority = min(frac_high, 1 - frac_high)
            kept = minority >= min_minority
            test_cls = cls[~train].dropna()
            rows.append({"feature": name, "group": group, "image_type": parsed.image_type,
                         "feature_class": parsed.feature_class, "centre_low": lo, "centre_high": hi, "threshold": thr,
                         "frac_high_train": frac_high,
                         "frac_high_test": float((test_cls == "high").mean()) if len(test_cls) else np.nan,
                         "minority_fraction": minority, "kept": kept,
                         "reason": "" if kept else f"minority class {minority:.1%} < {min_minority:.0%}"})
            if kept:
                columns[name] = cls
                tasks.append({"target": name, "kind": "binary", "group": group, "source": "radiomic",
                              "classes": json.dumps(["low", "high"])})
        else:
            columns[name] = col.astype(object).where(col.notna(), None)
            classes = sorted(col[train].dropna().astype(str).unique())
            tasks.append({"target": name, "kind": "binary" if len(classes) == 2 else "multiclass",
                          "group": name, "source": "clinical", "classes": json.dumps(classes)})
    targets = pd.concat([lab[["cohort"]], pd.DataFrame(columns, index=lab.index)], axis=1)
    for t in tasks:
        classes = json.loads(t["classes"])
        counts = targets.loc[train, t["target"]].value_counts()
        t["n_train"] = json.dumps({c: int(counts.get(c, 0)) for c in classes})
    tasks_df = pd.DataFrame(tasks)
    if len(tasks_df):
        from radplug.io import safe_id

        tasks_df["id"] = tasks_df["target"].map(safe_id)     # the file-safe id of each target (file names)
    return (targets.reset_index(), tasks_df,
            pd.DataFrame(rows, columns=["feature", "group", "image_type", "feature_class", "centre_low", "centre_high",
                                        "threshold", "frac_high_train", "frac_high_test", "minority_fraction", "kept",
                                        "reason"]))


def encode_target(series: pd.Series, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(mask of labelled samples, class codes 0..K-1) for a target column and its class list.

    Samples whose class is not among ``classes`` (e.g. unseen in training) count as unlabelled."""
    index = {c: i for i, c in enumerate(classes)}
    codes = series.map(lambda v: index.get(str(v), -1) if v is not None and v == v else -1).to_numpy()
    mask = codes >= 0
    return mask, codes[mask].astype(np.int64)
