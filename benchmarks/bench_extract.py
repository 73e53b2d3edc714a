"""Benchmark: EXTRACT on PyRadiomics' lung CTs (seconds per patient, peak memory), and the IBSI-1 agreement table.

Each settings preset runs in a fresh process (``radplug.data.extract.extract_cases`` on lung1 and lung2, the same
code the EXTRACT step runs), so its peak resident memory is its own. With ``--ibsi`` the IBSI-1 CT phantom is
extracted with IBSI configurations A and C and compared with the IBSI reference values; the share of features
within the IBSI tolerance is printed per feature family (see docs/radiomics.md for the deviations).

    python benchmarks/bench_extract.py [--presets pyradiomics,aerts2014] [--ibsi] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "radiomics_images"
PYRAD = SHARED / "pyradiomics"
IBSI = SHARED / "ibsi1_ct_phantom"
LUNGS = ("lung1", "lung2")


def worker(preset: str) -> None:
    """Extract the lung CTs with one preset in this process; print JSON (per-patient seconds, peak RSS)."""
    from radplug.data.extract import ImageCase, extract_cases

    cases = [ImageCase(c, PYRAD / f"{c}_image.nrrd", PYRAD / f"{c}_label.nrrd") for c in LUNGS]
    res = extract_cases(cases, "pyradiomics", preset)
    print(json.dumps({"preset": preset, "version": res.info["extractor_version"],
                      "features": res.features.shape[1] - 1,
                      "seconds": {p["sample_id"]: p["seconds"] for p in res.info["patients"]},
                      "cpu_seconds": {p["sample_id"]: p["cpu_seconds"] for p in res.info["patients"]},
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def ibsi_tables(out: Path | None) -> None:
    from radplug.data.extract import ImageCase, extract_cases
    from radplug.data.extract_reference import IBSI_CONFIGS, ibsi_agreement, ibsi_summary, read_ibsi_reference

    nifti = IBSI / "nifti"
    case = ImageCase("ibsi1_phantom", nifti / "image" / "phantom.nii.gz", nifti / "mask" / "mask.nii.gz")
    for name, (conf, suffix) in IBSI_CONFIGS.items():
        with tempfile.TemporaryDirectory() as tmp:
            settings = Path(tmp) / f"ibsi_config_{name}.yaml"
            settings.write_text(json.dumps(conf))
            feats = extract_cases([case], "pyradiomics", str(settings)).features.iloc[0].to_dict()
        ref = read_ibsi_reference(IBSI / "reference_values" / f"ibsi_1_chest_config_{name.lower()}.csv")
        table = ibsi_agreement(feats, ref, suffix)
        summary = ibsi_summary(table)
        print(f"\nIBSI-1 CT phantom, configuration {name}: {int(summary['within'].sum())}/{len(table)} features "
              "within tolerance")
        print(f"  {'family':<36} {'compared':>8} {'within':>7} {'share':>7}")
        for r in summary.itertuples(index=False):
            print(f"  {r.family:<36} {r.compared:>8} {r.within:>7} {r.share:>7.0%}")
        if out:
            out.mkdir(parents=True, exist_ok=True)
            table.to_csv(out / f"ibsi1_config_{name}_agreement.csv", index=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="pyradiomics,aerts2014")
    ap.add_argument("--ibsi", action="store_true", help="also print the IBSI-1 agreement per feature family")
    ap.add_argument("--out", type=Path, default=None, help="write the IBSI agreement tables (CSV) here")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.worker)
        return
    if not PYRAD.exists():
        sys.exit(f"test images not found: {PYRAD}")
    rows = []
    for preset in [p.strip() for p in a.presets.split(",") if p.strip()]:
        proc = subprocess.run([sys.executable, __file__, "--worker", preset], capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"preset {preset} failed:\n{proc.stderr[-2000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        secs, cpu = r["seconds"], r["cpu_seconds"]
        rows.append({"preset": preset, "features": r["features"], **{f"s_{k}": v for k, v in secs.items()},
                     "s_per_patient": sum(secs.values()) / len(secs),
                     "cpu_s_per_patient": sum(cpu.values()) / len(cpu), "peak_rss_mb": round(r["peak_rss_mb"])})
        version = r["version"]
    print(f"EXTRACT on PyRadiomics' lung CTs ({', '.join(LUNGS)}), pyradiomics {version}, one process per preset "
          "(s: wall-clock seconds, cpu_s: CPU seconds of the process, robust to other load):")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if a.ibsi:
        ibsi_tables(a.out)


if __name__ == "__main__":
    main()
