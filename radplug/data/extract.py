"""EXTRACT: radiomic features from images and tumour masks, through a feature-extractor plugin.

An *image manifest* is a CSV with one row per patient: ``sample_id``, ``image``, ``mask`` and an optional
``label`` (the mask value of the tumour, default 1); paths are relative to the manifest's folder or absolute.
Images and masks are NRRD, NIfTI or MetaImage files; an image may also be a folder holding one DICOM series.
The output is the radiomics table INGEST reads (``sample_id`` + one numeric column per feature).

Every problem with a patient's files raises :class:`ExtractionError` naming the patient and the file.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radplug.io import RadplugInputError

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("sample_id", "image", "mask", "label")
# written by the pipeline's EXTRACT task beside the staged copies: the user's paths, for messages and provenance
SOURCE_COLUMNS = ("image_source", "mask_source")
IMAGE_SUFFIXES = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")
GEOMETRY_TOLERANCE = 1e-3   # mm (origin, spacing) and direction cosines
CONVERT_HINT = (
    "convert it to a voxel mask (NIfTI or NRRD) on the image grid first, e.g. with dcmrtstruct2nii, rt-utils "
    "or `plastimatch convert --input RS.dcm --referenced-ct CT_DIR --output-prefix masks` (RTSTRUCT), or "
    "pydicom-seg (DICOM-SEG)"
)


class ExtractionError(RadplugInputError):
    """A patient's image or mask cannot be used; the message names the patient and the file."""


@dataclass(frozen=True)
class ImageCase:
    """One patient of an image manifest."""

    sample_id: str
    image: Path
    mask: Path
    label: int = 1
    image_source: str = ""   # the path the user gave, when ``image`` is a staged copy (messages, provenance)
    mask_source: str = ""

    def shown(self, role: str) -> str:
        """The image's or mask's path as the user gave it."""
        return getattr(self, f"{role}_source") or str(getattr(self, role))


# --------------------------------------------------------------------------- manifest
def is_image_manifest(path: str | Path) -> bool:
    """True when ``path`` is a CSV whose header has ``image`` and ``mask`` columns."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            header = {c.strip().lower() for c in fh.readline().split(",")}
    except OSError:
        return False
    return {"image", "mask"} <= header


def read_image_manifest(path: str | Path) -> list[ImageCase]:
    """The patients of an image manifest, with paths resolved against the manifest's folder."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:
        raise RadplugInputError(f"{path}: not a readable image manifest CSV ({exc})") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in MANIFEST_COLUMNS[:3] if c not in df.columns]
    if missing:
        raise RadplugInputError(
            f"{path}: an image manifest needs columns sample_id, image, mask (label optional); "
            f"missing {', '.join(missing)}"
        )
    unknown = [c for c in df.columns if c not in MANIFEST_COLUMNS + SOURCE_COLUMNS]
    if unknown:
        raise RadplugInputError(
            f"{path}: unknown image-manifest column(s) {', '.join(unknown)}; allowed: {', '.join(MANIFEST_COLUMNS)}"
        )
    if df.empty:
        raise RadplugInputError(f"{path}: the image manifest has a header but no patients")
    cases, seen = [], set()
    for i, row in enumerate(df.to_dict("records")):
        where = f"{path}, row {i + 2}"
        sid = row["sample_id"].strip()
        if not sid:
            raise RadplugInputError(f"{where}: empty sample_id; fill it or remove the row")
        if sid in seen:
            raise RadplugInputError(f"{where}: sample_id '{sid}' appears more than once; each patient once")
        seen.add(sid)
        files = {}
        for col in ("image", "mask"):
            v = row[col].strip()
            if not v:
                raise RadplugInputError(f"{where} (patient {sid}): empty {col} path")
            files[col] = Path(v) if Path(v).is_absolute() else path.parent / v
        raw = str(row.get("label", "") or "1").strip()
        try:
            label = int(float(raw))
        except ValueError:
            raise RadplugInputError(
                f"{where} (patient {sid}): label {raw!r} is not an integer mask value"
            ) from None
        if label < 1 or float(raw) != label:
            raise RadplugInputError(f"{where} (patient {sid}): label {raw!r} must be a positive integer")
        cases.append(ImageCase(sid, files["image"], files["mask"], label,
                               *(str(row.get(c, "")).strip() for c in SOURCE_COLUMNS)))
    return cases


# --------------------------------------------------------------------------- images
def _dicom_modality(path: Path) -> str:
    """The DICOM Modality of a file ('' when it is not DICOM or has none)."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head[128:132] != b"DICM":
        return ""
    tag = b"\x08\x00\x60\x00"   # (0008,0060) Modality, little endian; explicit (CS) or implicit VR
    i = head.find(tag, 132)
    while i != -1:
        explicit = head[i + 4:i + 6] == b"CS"
        n = int.from_bytes(head[i + 6:i + 8] if explicit else head[i + 4:i + 8], "little")
        if 0 < n <= 16:
            return head[i + 8:i + 8 + n].decode("ascii", "replace").strip("\x00 ").upper()
        i = head.find(tag, i + 1)
    return "DICOM"


def load_image(path: Path, sample_id: str, role: str, shown: str | None = None) -> Any:
    """A SimpleITK image from a file or a one-series DICOM folder; errors name the patient and the file (as
    ``shown``, default ``path``)."""
    import SimpleITK as sitk

    what = f"patient {sample_id}: {role} {shown or path}"
    if not path.exists():
        raise ExtractionError(f"{what} does not exist")
    if path.is_dir():
        reader = sitk.ImageSeriesReader()
        series = reader.GetGDCMSeriesIDs(str(path))
        if not series:
            raise ExtractionError(f"{what}: the folder holds no DICOM image series")
        if len(series) > 1:
            raise ExtractionError(
                f"{what}: the folder holds {len(series)} DICOM series ({', '.join(series)}); put each "
                "patient's image series in a folder of its own"
            )
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(path), series[0]))
        try:
            return reader.Execute()
        except RuntimeError as exc:
            raise ExtractionError(f"{what}: the DICOM series cannot be read ({_first_line(exc)})") from exc
    modality = _dicom_modality(path)
    if modality in ("RTSTRUCT", "SEG"):
        raise ExtractionError(
            f"{what} is a DICOM {modality} object, which radplug does not read; {CONVERT_HINT}"
        )
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise ExtractionError(
            f"{what} cannot be read ({_first_line(exc)}); supported: {', '.join(IMAGE_SUFFIXES)} files and "
            "folders holding one DICOM series"
        ) from exc


def _first_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    msg = next((ln for ln in lines if "ERROR" in ln or "exception" in ln.lower()), lines[-1] if lines else "")
    return msg[:300]


def check_pair(image: Any, mask: Any, case: ImageCase) -> int:
    """Check that the mask lies on the image grid and holds voxels of the label; returns the voxel count."""
    import SimpleITK as sitk

    who = f"patient {case.sample_id}: mask {case.shown('mask')}"
    if image.GetDimension() != mask.GetDimension():
        raise ExtractionError(
            f"{who} is {mask.GetDimension()}-D but the image {case.shown('image')} is {image.GetDimension()}-D"
        )
    checks = [("size", image.GetSize(), mask.GetSize()), ("spacing", image.GetSpacing(), mask.GetSpacing()),
              ("origin", image.GetOrigin(), mask.GetOrigin()), ("direction", image.GetDirection(),
                                                                 mask.GetDirection())]
    for name, a, b in checks:
        if not np.allclose(a, b, rtol=0, atol=GEOMETRY_TOLERANCE):
            fmt = lambda v: "(" + ", ".join(f"{x:.4g}" for x in v) + ")"  # noqa: E731
            raise ExtractionError(
                f"{who} does not match the image {case.shown('image')}: {name} {fmt(b)} vs {fmt(a)}; the mask "
                "must be on the image's voxel grid (resample it to the image, e.g. with SimpleITK or 3D Slicer)"
            )
    arr = sitk.GetArrayViewFromImage(mask)
    n = int(np.count_nonzero(arr == case.label))
    if n == 0:
        present = [int(v) for v in np.unique(arr)[:10]]
        raise ExtractionError(
            f"{who} has no voxel of label {case.label} (values present: {present}); set the manifest's label "
            "column to the tumour's value"
        )
    return n


# --------------------------------------------------------------------------- settings
def resolve_settings(extractor: str, spec: str) -> tuple[dict[str, Any], str]:
    """Settings for ``spec``: a preset name of the extractor or a settings file; returns (settings, source)."""
    from radplug.plugins import get_extractor

    ext = get_extractor(extractor)
    if spec in ext.presets:
        return json.loads(json.dumps(ext.presets[spec])), f"preset {spec}"
    p = Path(spec)
    if p.suffix.lower() in (".yaml", ".yml", ".json") or p.exists():
        if not p.is_file():
            raise RadplugInputError(f"extraction settings file {spec} (--extract_settings) does not exist")
        return ext.read_settings(str(p)), f"file {p.name}"
    raise RadplugInputError(
        f"--extract_settings '{spec}' is neither a preset of extractor {extractor} "
        f"({', '.join(ext.presets)}) nor a settings file (.yaml)"
    )


# --------------------------------------------------------------------------- extraction
@dataclass
class Extraction:
    """Features of a set of patients (``sample_id`` + features) and what produced them."""

    features: pd.DataFrame
    info: dict[str, Any]


def extract_cases(cases: list[ImageCase], extractor: str = "pyradiomics", settings: str = "pyradiomics") -> Extraction:
    """Extract features for every patient; stops at the first patient whose files are unusable."""
    from radplug.plugins import get_extractor, provided

    ext = get_extractor(extractor)
    conf, source = resolve_settings(extractor, settings)
    fn = ext.factory(conf)              # says how to install the extractor when it is missing
    try:
        import SimpleITK as sitk
    except ImportError as exc:
        raise RadplugInputError(
            f"reading images needs SimpleITK ({exc}); {ext.install or 'pip install SimpleITK'}"
        ) from exc
    rows, patients = [], []
    for case in cases:
        t0, c0 = time.perf_counter(), time.process_time()
        image_shown, mask_shown = case.shown("image"), case.shown("mask")
        image = load_image(case.image, case.sample_id, "image", image_shown)
        mask = load_image(case.mask, case.sample_id, "mask", mask_shown)
        n_vox = check_pair(image, mask, case)
        try:
            feats = fn(image, mask, case.label)
        except Exception as exc:
            raise ExtractionError(
                f"patient {case.sample_id}: {extractor} failed on image {image_shown} with mask {mask_shown} "
                f"(label {case.label}): {type(exc).__name__}: {_first_line(exc)}"
            ) from exc
        if not feats:
            raise ExtractionError(f"patient {case.sample_id}: {extractor} returned no feature for {image_shown}")
        rows.append({"sample_id": case.sample_id, **feats})
        secs = time.perf_counter() - t0
        patients.append({"sample_id": case.sample_id, "image": image_shown, "mask": mask_shown,
                         "label": case.label, "voxels": n_vox, "seconds": round(secs, 3),
                         "cpu_seconds": round(time.process_time() - c0, 3)})
        log.info("patient %s: %d features in %.1f s", case.sample_id, len(feats), secs)
    plugin = next(p for p in provided("feature_extractor") if p.record.name == extractor)
    info = {"extractor": extractor, "extractor_version": ext.version(), "plugin_package": plugin.package,
            "plugin_version": plugin.version, "simpleitk": sitk.Version.VersionString(), "settings_source": source,
            "settings": conf, "patients": patients}
    return Extraction(pd.DataFrame(rows), info)


def join_extractions(parts: list[Extraction]) -> Extraction:
    """One table from per-batch extractions; they must share extractor, version, settings and features."""
    if not parts:
        raise RadplugInputError("no extraction to join")
    first = parts[0]
    keys = ("extractor", "extractor_version", "settings")
    for p in parts[1:]:
        for k in keys:
            if p.info[k] != first.info[k]:
                ids = [r["sample_id"] for r in p.info["patients"]][:3]
                raise RadplugInputError(
                    f"extractions disagree on {k} (patients {', '.join(ids)}); re-run EXTRACT for every patient "
                    "with one extractor and one settings file"
                )
        if list(p.features.columns) != list(first.features.columns):
            diff = sorted(set(p.features.columns) ^ set(first.features.columns))[:5]
            sid = p.features["sample_id"].iloc[0]
            raise RadplugInputError(
                f"patient {sid}: its features differ from patient {first.features['sample_id'].iloc[0]}'s "
                f"(e.g. {', '.join(diff) or 'column order'})"
            )
    table = pd.concat([p.features for p in parts], ignore_index=True)
    dup = table["sample_id"][table["sample_id"].duplicated()].unique()
    if len(dup):
        raise RadplugInputError(f"patient(s) {', '.join(dup[:5])} extracted more than once")
    info = {k: v for k, v in first.info.items() if k != "patients"}
    info["patients"] = [r for p in parts for r in p.info["patients"]]
    info["n_patients"] = len(table)
    info["n_features"] = table.shape[1] - 1
    return Extraction(table, info)


def write_extraction(res: Extraction, features_csv: str | Path, info_json: str | Path,
                     settings_yaml: str | Path | None = None) -> None:
    """Write the feature table (CSV), the provenance (JSON) and, optionally, the settings (YAML)."""
    res.features.to_csv(features_csv, index=False, float_format="%.17g")
    Path(info_json).write_text(json.dumps(res.info, indent=2, default=str) + "\n")
    if settings_yaml:
        head = (f"# radiomic feature extraction settings: {res.info['extractor']} {res.info['extractor_version']}"
                f" ({res.info['settings_source']})\n# JSON is YAML: pass this file back with --extract_settings\n")
        Path(settings_yaml).write_text(head + json.dumps(res.info["settings"], indent=2) + "\n")


def read_extraction(features_csv: str | Path, info_json: str | Path) -> Extraction:
    """A per-batch extraction written by :func:`write_extraction`."""
    return Extraction(pd.read_csv(features_csv, dtype={"sample_id": str}), json.loads(Path(info_json).read_text()))
