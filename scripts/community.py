#!/usr/bin/env python3
"""A simulated community: half of a question set is replayed as history, the
other half judged before and after learning from it.

In the history half, whenever the bot offers choices and the right passage is
among them, the member picks it; every pick is approved. The picks are written
as an examples file (the format `transition-bot examples export` writes) into a
copy of the knowledge, the way approved examples reach a rebuild, and the
judged half is evaluated on the knowledge before and after. With `--strip` the
knowledge is first stripped of its hand-written vocabulary and examples
(scripts/strip_vocabulary.py): an operator's plain docs.

    cargo build --release
    python3 scripts/community.py tests/corpus/chatty-dev.toml
    python3 scripts/community.py --strip tests/corpus/chatty-dev.toml

Cases alternate between the halves (even: history, odd: judged), so both have
every topic's share. Prints one line per knowledge state with right and helped
counts on the judged half, and how many examples were learned.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def toml_string(text):
    # JSON's string escapes are valid TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


def write_cases(cases, path):
    with open(path, "w") as out:
        for case in cases:
            out.write("[[case]]\n")
            out.write(f"question = {toml_string(case['question'])}\n")
            if case.get("expect_none"):
                out.write("expect_none = true\n")
            else:
                out.write("expect_any = [" + ", ".join(toml_string(p) for p in case["expect_any"]) + "]\n")
            if "phase" in case:
                out.write(f"phase = {case['phase']}\n")
            if case.get("also_any"):
                out.write("also_any = [" + ", ".join(toml_string(p) for p in case["also_any"]) + "]\n")
            out.write("\n")


def evaluate(bot, knowledge, questions):
    env = dict(os.environ, TRANSITION_BOT_STORAGE__LOG_QUESTION_TEXT="false")
    run = subprocess.run(
        [bot, "--knowledge", knowledge, "eval", "--json", questions], capture_output=True, text=True, env=env
    )
    if not run.stdout.strip():
        sys.exit(f"eval failed: {run.stderr}")
    return json.loads(run.stdout)


def learned_file(picks):
    lines = ["+++", 'kind = "examples"', "+++", "# Learned from members", ""]
    for unit in sorted(picks):
        lines.append(f"## {unit}")
        lines += [f"- {' '.join(text.split())}" for text in picks[unit]]
        lines.append("")
    return "\n".join(lines)


def summary(report):
    c = report["confusion"]
    answerable = c["right"] + c["wrong_passage"] + c["declined"]
    off_topic = c["off_topic_answered"] + c["off_topic_declined"]
    return (
        f"right {c['right']}/{answerable}, helped {c['helped']}/{answerable + off_topic}, "
        f"off-topic answered {c['off_topic_answered']}/{off_topic}, offered choices {c['off_topic_offered']}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions")
    parser.add_argument("--knowledge", default=os.path.join(ROOT, "knowledge"))
    parser.add_argument("--bot", default=os.path.join(ROOT, "target", "release", "transition-bot"))
    parser.add_argument("--strip", action="store_true", help="strip the hand-written vocabulary first")
    args = parser.parse_args()
    cases = tomllib.load(open(args.questions, "rb"))["case"]
    history, judged = cases[0::2], cases[1::2]
    with tempfile.TemporaryDirectory() as temp:
        before = os.path.join(temp, "before")
        if args.strip:
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "strip_vocabulary.py"), args.knowledge, before], check=True)
        else:
            shutil.copytree(args.knowledge, before)
        history_file, judged_file = os.path.join(temp, "history.toml"), os.path.join(temp, "judged.toml")
        write_cases(history, history_file)
        write_cases(judged, judged_file)
        replay = evaluate(args.bot, before, history_file)
        picks = {}
        for outcome in replay["outcomes"]:
            if outcome.get("right_choice"):
                picks.setdefault(outcome["right_choice"], []).append(outcome["question"])
        learned = sum(len(texts) for texts in picks.values())
        after = os.path.join(temp, "after")
        shutil.copytree(before, after)
        os.makedirs(os.path.join(after, "examples"), exist_ok=True)
        with open(os.path.join(after, "examples", "learned-from-members.md"), "w") as out:
            out.write(learned_file(picks))
        label = "stripped" if args.strip else "shipped"
        print(f"{label}: history {len(history)} cases, {learned} picks learned")
        print(f"{label} before: {summary(evaluate(args.bot, before, judged_file))}")
        print(f"{label} after:  {summary(evaluate(args.bot, after, judged_file))}")


if __name__ == "__main__":
    main()
