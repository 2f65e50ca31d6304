#!/usr/bin/env python3
"""Times bm25s over the same units and questions as `transition-bot bench`.

One run measures both, on the same machine and moment, so the figures are
comparable: it runs `transition-bot bench --json --dump-units`, indexes the
dumped units (title, keywords and text of each) with bm25s, and times every
question the same number of times.

bm25s is measured two ways:
  per-query  one question at a time (tokenize + retrieve), as a chat bot
             receives them; p50/p99 like ours.
  batched    all questions in one call, divided by their number; bm25s's
             best case, which a bot answering messages one by one cannot use.

bm25s runs single-threaded (`n_threads=0`, its default): asking it for one
worker thread makes every call pay for a thread pool (about 10x slower).

Our figure times `answer::ask`: analysis, typo correction, synonyms, BM25 and
the coverage re-ranking, so it does more per question than bm25s does.

Setup (outside the repository, nothing is committed):
    python3 -m venv /tmp/bm25venv
    /tmp/bm25venv/bin/pip install bm25s==0.3.16 PyStemmer
    cargo build --release
    /tmp/bm25venv/bin/python benches/bm25s_compare.py
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

import bm25s
import Stemmer


def percentile(sorted_samples, percent):
    """Nearest-rank percentile, as `transition-bot bench` computes it."""
    rank = max(1, min(len(sorted_samples), -(-len(sorted_samples) * percent // 100)))
    return sorted_samples[int(rank) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="target/release/transition-bot")
    parser.add_argument("--knowledge", default="knowledge")
    parser.add_argument("--questions", default="tests/questions.toml")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--k", type=int, default=12, help="hits per question (our re-ranking takes 12)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temp:
        dump = os.path.join(temp, "units.jsonl")
        command = [args.binary, "--knowledge", args.knowledge, "bench", "--json",
                   "--iterations", str(args.iterations), "--questions", args.questions, "--dump-units", dump]
        ours = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        with open(dump, encoding="utf-8") as file:
            units = [json.loads(line) for line in file]

    with open(args.questions, "rb") as file:
        questions = [case["question"] for case in tomllib.load(file)["case"]]
    corpus = ["\n".join([unit["title"], *unit["keywords"], unit["text"]]) for unit in units]

    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    tokenizer = bm25s.tokenization.Tokenizer(stemmer=stemmer, stopwords="en")
    corpus_ids = tokenizer.tokenize(corpus, return_as="ids", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus_ids, show_progress=False)
    build_ms = (time.perf_counter() - started) * 1e3
    k = min(args.k, len(units))

    def ask(question):
        ids = tokenizer.tokenize([question], update_vocab=False, return_as="ids", show_progress=False)
        return retriever.retrieve(ids, k=k, show_progress=False)

    for question in questions:  # untimed warm-up, as ours
        ask(question)
    samples = []
    for _ in range(args.iterations):
        for question in questions:
            started = time.perf_counter()
            ask(question)
            samples.append(time.perf_counter() - started)
    samples.sort()

    batches = []
    for _ in range(max(1, args.iterations // 10)):
        started = time.perf_counter()
        ids = tokenizer.tokenize(questions, update_vocab=False, return_as="ids", show_progress=False)
        retriever.retrieve(ids, k=k, show_progress=False)
        batches.append((time.perf_counter() - started) / len(questions))

    theirs = {
        "units": len(units),
        "build_ms": build_ms,
        "query_p50_us": percentile(samples, 50) * 1e6,
        "query_p99_us": percentile(samples, 99) * 1e6,
        "batched_us_per_query": statistics.median(batches) * 1e6,
        "version": bm25s.__version__,
    }
    if args.json:
        print(json.dumps({"transition_bot": ours, "bm25s": theirs}))
        return 0
    print(f"{len(units)} units, {len(questions)} questions x {args.iterations} runs ({args.questions})")
    print(f"{'':22}{'transition-bot':>16}{'bm25s ' + bm25s.__version__:>16}")
    print(f"{'build (ms)':22}{ours['build_ms']:>16.1f}{theirs['build_ms']:>16.1f}")
    print(f"{'query p50 (us)':22}{ours['query_p50_us']:>16.1f}{theirs['query_p50_us']:>16.1f}")
    print(f"{'query p99 (us)':22}{ours['query_p99_us']:>16.1f}{theirs['query_p99_us']:>16.1f}")
    print(f"{'batched (us/query)':22}{'-':>16}{theirs['batched_us_per_query']:>16.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
