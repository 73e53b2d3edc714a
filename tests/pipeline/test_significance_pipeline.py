"""Bad masking parameters stop a real `nextflow run` at launch, before anything is published (the
statistics: tests/unit/test_significance.py)."""

from __future__ import annotations

import pytest
from conftest import run_nextflow


# the launch check lists every bad parameter at once: three runs cover the five refusals
@pytest.mark.pipeline
@pytest.mark.parametrize("args, messages", [
    (["--mask_n_random", "0", "--mask_fdr_scope", "everything"],
     ["--mask_n_random must be >= 1", "--mask_fdr_scope must be one of target, run"]),
    (["--mask_n_random", "-5", "--mask_target_q", "2"],
     ["--mask_n_random must be >= 1", "--mask_target_q must be <= 1"]),
    (["--mask_n_random", "500", "--mask_max_random", "100"], ["--mask_max_random (100) must be at least"]),
])
def test_bad_masking_parameters_stop_the_pipeline_before_anything_is_published(args, messages, tmp_path):

    run = run_nextflow(tmp_path, "-profile", "test", *args)
    assert run.returncode != 0
    for message in messages:
        assert message in run.log, run.log[-2000:]
    published = [p for p in run.outdir.rglob("*") if p.is_file() and "pipeline_info" not in p.parts]
    assert not published, published
