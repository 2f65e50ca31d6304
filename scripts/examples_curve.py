#!/usr/bin/env python3
"""What more examples buy: the confusion with the first N examples per passage.

Copies the knowledge folder once per N, keeps the first N messages under
every passage heading of its examples files (off-topic examples are kept
whole), and runs `transition-bot eval --table` on the given question files
over each copy, with the shipped decision (fitted with every example).

    cargo build --release
    python3 scripts/examples_curve.py 0 5 10 25 30 -- tests/corpus/chatty-dev.toml

N = 0 drops the passages' examples but keeps the off-topic ones.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def truncate(text, keep):
    out, count, off_topic = [], 0, False
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            count, off_topic = 0, line[3:].strip().lower() in ("off-topic", "off topic", "out of scope")
        elif line.startswith("- ") and not off_topic:
            count += 1
            if count > keep:
                continue
        out.append(line)
    return "".join(out)


def main():
    args = sys.argv[1:]
    split = args.index("--")
    sizes, files = [int(n) for n in args[:split]], args[split + 1:]
    binary = REPO / "target" / "release" / "transition-bot"
    for keep in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            dst = Path(tmp) / "knowledge"
            shutil.copytree(REPO / "knowledge", dst)
            for path in dst.rglob("*.md"):
                text = path.read_text()
                if re.search(r'^kind\s*=\s*"examples"', text, flags=re.M):
                    path.write_text(truncate(text, keep))
            table = subprocess.run([binary, "--knowledge", str(dst), "eval", "--table", *files],
                                   cwd=REPO, capture_output=True, text=True, check=True).stdout
            print(f"## {keep} examples per passage\n{table}")


if __name__ == "__main__":
    main()
