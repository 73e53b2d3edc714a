#!/usr/bin/env bash
# The network paths on a GPU: the widest paper network fold-stacked, the masking engine, and SEARCH of the mlp
# (fast grid, one group with its per-feature CV; one paper-grid configuration) at the paper's scale.
#
#   benchmarks/bench_gpu_paths.sh DATA GMT OUT
#
# DATA holds expression.parquet, targets.parquet and tasks.parquet of a paper-scale cohort (results/data/ of
# `nextflow run main.nf -profile paper_scale`, or INGEST/BINARIZE of it); GMT is MSigDB GO BP
# (../shared/data/msigdb/c5.go.bp.v2023.2.Hs.symbols.gmt); OUT gets one text file per part.
# Figures from one H200 are in docs/execution.md ("Measured on one GPU").
set -u
DATA=$1; GMT=$2; OUT=$3
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
{ nvidia-smi -L; nproc; python3 -c "import torch, sklearn; print('torch', torch.__version__, 'sklearn', sklearn.__version__)"; } 2>&1 | tee "$OUT/env.txt"
echo "== widest network, 10 folds stacked"
timeout 300 python3 benchmarks/bench_wide_network.py --device cuda --folds 10 --epochs 5 2>&1 | tee "$OUT/wide.txt"
echo "== masking engine"
timeout 300 python3 benchmarks/bench_masking.py --device cuda --gmt "$GMT" 2>&1 | tee "$OUT/masking.txt"
OPTS='{"cv_folds":10,"seed":42,"device":"cuda","stack_folds":true,"class_weight":"balanced","nested_cv":0}'
search() {  # NAME ARGS...: one SEARCH task of the mlp on group GLCM
  local name=$1; shift
  /usr/bin/time -f "wall %e s, user %U s, max RSS %M KB" timeout 600 radplug search --expression "$DATA/expression.parquet" \
    --targets "$DATA/targets.parquet" --tasks "$DATA/tasks.parquet" --unit group:GLCM --family mlp "$@" \
    --out "$OUT/cv_$name.parquet" --options "$OPTS" > "$OUT/search_$name.txt" 2>&1
  tail -2 "$OUT/search_$name.txt"
}
echo "== SEARCH mlp fast, group GLCM, with the per-feature CV"; search fast --grid fast --chunk 0 --n-chunks 1
echo "== SEARCH mlp paper, 1 of 48 configurations"; search paper1 --grid paper --chunk 0 --n-chunks 48 --no-feature-cv
echo "== training throughput, CPU and CUDA"
timeout 300 python3 benchmarks/bench_training.py --epochs 2 --folds 3 2>&1 | tee "$OUT/training.txt"
