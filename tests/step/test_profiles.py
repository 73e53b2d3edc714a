"""Execution profiles as Nextflow resolves them (`nextflow config -flat`), a real retry on an out-of-memory
exit code with conf/base.config, and the device choice of the GPU code paths, run on CPU."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import pytest
from conftest import REPO, nextflow_command

ENGINES = ("docker", "podman", "singularity", "apptainer")
CPU_IMAGE = "localhost/radplug:0.1.0"
GPU_IMAGE = "localhost/radplug-cuda:0.1.0"




@cache
def flat_config(profile: str) -> dict[str, str]:
    """``nextflow config -flat -profile PROFILE`` of the repository as a dict (values as printed)."""
    env = {**os.environ, "NXF_OFFLINE": "true", "NXF_ANSI_LOG": "false"}
    proc = subprocess.run([nextflow_command(), "config", "-flat", "-profile", profile, str(REPO)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"nextflow config -profile {profile} failed:\n{proc.stdout}\n{proc.stderr}"
    out = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            out[key.strip()] = value.strip()
    assert out, f"nextflow config -profile {profile} printed nothing"
    return out


@pytest.fixture(scope="module", autouse=True)
def _resolve_all_profiles():
    """Resolve the profiles two at a time (each `nextflow config` is a JVM start of ~10 s)."""
    profiles = ["gpu", "podman,gpu", "slurm,gpu", "awsbatch", "google_batch", "kubernetes", *ENGINES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(flat_config, profiles))


GPU_SELECTOR = "process.'withName:SEARCH|FEATURE_CV|FIT_FINAL|MASK'"


def test_gpu_profile_sets_accelerator_device_and_container_gpu_options():
    cfg = flat_config("gpu")
    assert cfg["params.device"] == "'cuda'"
    assert cfg[f"{GPU_SELECTOR}.accelerator"] == "1"
    assert cfg[f"{GPU_SELECTOR}.container"] == f"'{GPU_IMAGE}'"
    assert cfg[f"{GPU_SELECTOR}.cpus"] == "{ 2 }"                  # set directly, not through a label
    assert f"{GPU_SELECTOR}.label" not in cfg
    assert "--gpus all" in cfg["docker.runOptions"]
    assert cfg["podman.runOptions"] == "'--device nvidia.com/gpu=all'"
    assert cfg["singularity.runOptions"] == "'--nv'"
    assert cfg["apptainer.runOptions"] == "'--nv'"
    # combined with a container engine, the other processes keep the CPU image
    both = flat_config("podman,gpu")
    assert both["process.container"] == f"'{CPU_IMAGE}'"
    assert both[f"{GPU_SELECTOR}.container"] == f"'{GPU_IMAGE}'"
    assert both["podman.enabled"] == "true"


@pytest.mark.parametrize("engine", ENGINES)
def test_each_container_profile_enables_only_its_engine(engine):
    cfg = flat_config(engine)
    assert cfg[f"{engine}.enabled"] == "true"
    for other in ENGINES:
        if other != engine:
            assert cfg.get(f"{other}.enabled") == "false", f"-profile {engine} leaves {other} on"
    assert cfg["process.container"] == f"'{CPU_IMAGE}'"
    assert "params.device" in cfg and cfg["params.device"] == "'cpu'"


def test_slurm_profile_submits_with_sbatch_and_asks_gres_for_gpu_tasks():
    cfg = flat_config("slurm,gpu")
    assert cfg["process.executor"] == "'slurm'"
    assert cfg["executor.name"] == "'slurm'"
    assert "task.accelerator" in cfg["process.queue"]
    assert "--gres=gpu:" in cfg["process.clusterOptions"]
    assert cfg[f"{GPU_SELECTOR}.accelerator"] == "1"


@pytest.mark.parametrize(("profile", "executor", "setting"), [
    ("awsbatch", "'awsbatch'", "aws.region"),
    ("google_batch", "'google-batch'", "google.project"),
    ("kubernetes", "'k8s'", "k8s.storageClaimName"),
])
def test_cloud_profiles_parse_and_name_their_executor(profile, executor, setting):
    cfg = flat_config(profile)
    assert cfg["process.executor"] == executor
    assert setting in cfg, f"-profile {profile} does not set {setting}"
    assert cfg["docker.enabled"] == "true" and cfg["process.container"] == f"'{CPU_IMAGE}'"


RETRY_NF = """
process OOM_ONCE {
    label 'process_low'
    output: stdout
    script:
    "echo attempt=${task.attempt} memory=${task.memory.toGiga()}; [ ${task.attempt} -ge 2 ] || exit 137"
}
workflow { OOM_ONCE() | view }
"""


def test_base_config_retries_an_out_of_memory_exit_with_more_memory(tmp_path):
    """A task killed with exit 137 (SIGKILL, as the OOM killer does) is retried once with twice the memory."""
    (tmp_path / "main.nf").write_text(RETRY_NF)
    env = {**os.environ, "NXF_OFFLINE": "true", "NXF_ANSI_LOG": "false"}
    proc = subprocess.run([nextflow_command(), "run", "main.nf", "-c", str(REPO / "conf/base.config")], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"attempt=2 memory=8\b", proc.stdout), proc.stdout
    assert re.search(r"exit status \(137\).*Execution is retried", proc.stdout + proc.stderr), proc.stdout


# -- GPU code paths, run on CPU with the device chosen by a parameter ---------------------------------------

def _toy(n: int = 60, p: int = 30):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p)).astype(np.float32)
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    return X, y


def _final_mlp(device: str):
    from radplug.training.cv import make_pipeline
    from radplug.training.final import FinalModel

    X, y = _toy()
    pipe = make_pipeline("mlp", {"first_layer": 16, "n_layers": 2, "epochs": 20, "patience": 10}, 0, device)
    pipe.fit(X, y)
    return FinalModel("t", "mlp", "c0", {}, ["0", "1"], [f"g{i}" for i in range(X.shape[1])], pipe, 0, 0.5), X


def _no_gpu() -> bool:
    import torch

    return not torch.cuda.is_available()


def test_mlp_on_cpu_device_trains_on_cpu_and_predicts():
    from radplug.models.mlp import MLPClassifier

    X, y = _toy()
    clf = MLPClassifier(first_layer=16, n_layers=2, epochs=20, patience=10, device="cpu").fit(X, y)
    assert all(p.device.type == "cpu" for p in clf.network_.parameters())
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_masking_engine_on_cpu_device_matches_the_literal_masking():
    from radplug.explain.masking import MaskingEngine

    model, X = _final_mlp("cpu")
    sets = [np.arange(0, 3), np.arange(5, 15), np.array([29])]
    engine = MaskingEngine(model, device="cpu")
    fast = engine.probabilities(X, sets)
    assert fast.shape == (3, len(X), 2)
    np.testing.assert_allclose(fast, engine.literal_probabilities(X, sets), atol=1e-5)


@pytest.mark.skipif(not _no_gpu(), reason="a CUDA device is present: the no-GPU error cannot be provoked")
def test_mlp_cuda_without_gpu_gives_the_clear_error():
    from radplug.models.mlp import MLPClassifier

    X, y = _toy()
    with pytest.raises(RuntimeError, match="device 'cuda' was requested but PyTorch sees no CUDA device"):
        MLPClassifier(epochs=2, device="cuda").fit(X, y)


@pytest.mark.skipif(not _no_gpu(), reason="a CUDA device is present: the no-GPU error cannot be provoked")
def test_masking_engine_cuda_without_gpu_gives_the_clear_error():
    from radplug.explain.masking import MaskingEngine

    model, X = _final_mlp("cpu")
    with pytest.raises(RuntimeError, match="device 'cuda' was requested but PyTorch sees no CUDA device"):
        MaskingEngine(model, device="cuda").probabilities(X, [np.arange(3)])


def test_paper_scale_profile_sets_the_papers_dimensions():
    """-profile paper_scale: 262 + 89 patients, 21,766 genes, the paper's 101 features in its 7 group sizes."""
    from radplug.data.radiomics import GROUPS, parse_feature_name
    from radplug.data.simulate import PAPER_GROUP_SIZES, feature_names

    conf = flat_config("paper_scale")
    assert (conf["params.sim_n_train"], conf["params.sim_n_test"], conf["params.sim_n_genes"]) == ("262", "89", "21766")
    assert conf["params.sim_group_sizes"].strip("'") == "paper"
    assert sum(PAPER_GROUP_SIZES) == 101
    for group, n in zip(GROUPS, PAPER_GROUP_SIZES, strict=True):
        names = feature_names(group, n)
        assert len(set(names)) == n and {parse_feature_name(f).group for f in names} == {group}
