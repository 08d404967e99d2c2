#!/usr/bin/env bash
# Re-runs every benchmark at its documented size, one at a time (each writes
# bench/results/<bench>.json), then regenerates docs/benchmarks.md's summary table.
# Run on an idle machine from the repository root. Peers that live outside herd's
# environment are optional: NEMO_PYTHON (a NeMo Curator venv's python), BFCL_PYTHON (a
# bfcl-eval venv's python), LID_MODEL (fastText lid.176.ftz); a bench whose peer is not
# given is skipped and keeps its previous result file (language ID then runs without fastText).
set -euo pipefail
cd "$(dirname "$0")/.."
python bench/torch_vs_hf_train.py --workloads short,long --shapes 1x2048 --repeats 5 --steps 12 --warmup 3 --threads 1 --out docs/benchmarks/training.md
python bench/curation_vs_datatrove.py --docs 4000 --runs 3 --output docs/benchmarks/curation.md
if [ -n "${NEMO_PYTHON:-}" ]; then python bench/curation_vs_nemo.py --nemo-python "$NEMO_PYTHON" --runs 5 --output docs/benchmarks/curation.md; fi
python bench/extraction.py --repeats 5 --output docs/benchmarks/extraction.md
if [ -n "${BFCL_PYTHON:-}" ]; then python bench/bfcl_agreement.py --bfcl-python "$BFCL_PYTHON" --repeats 3; fi
python bench/dpo_and_generation.py --repeats 5 --out docs/benchmarks/posttrain.md
python bench/semantic_dedup.py --n 1000000 --runs 3 --skip-embed
python bench/multilingual_lid.py --per-language 300 --runs 5 ${LID_MODEL:+--fasttext-model "$LID_MODEL"}
python bench/math_verify.py --repeats 3
python bench/long_context_generate.py --tasks niah_single_1,niah_single_2,niah_multikey_2,vt,cwe,fwe --runs 3
python bench/nemo_vs_torch.py --repeats 3
python bench/sandbox_throughput.py --repeats 5 --out docs/benchmarks/sandbox.md
python bench/summarize.py
