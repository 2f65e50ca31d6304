#!/usr/bin/env python3
# The fourth wave (pool4.jsonl, labels-4-{1,2}.jsonl), merged as merge.py
# does: both answerable -> expect_any (either's quotes); both not ->
# expect_none; anything else -> borderline. Split at random by label (seed
# 20261207) into sources and test halves, whole pages at a time.
# Writes ../real-3-{sources,test}.toml; run from this folder.
import random, sys
sys.path.insert(0, '.')
from cases import merged, write_cases
from pooling import page
cases = merged('pool4.jsonl', 'labels-4-1.jsonl', 'labels-4-2.jsonl')
# Whole pages go one way: each page takes the label of its first case.
rng = random.Random(20261207)
pages = {}
for c in cases:
    pages.setdefault(page(c[3]), []).append(c)
by = {}
for p, group in sorted(pages.items()):
    by.setdefault(group[0][0], []).append(group)
src, test = [], []
for kind in sorted(by):
    groups = by[kind]
    rng.shuffle(groups)
    half = len(groups) // 2
    for g in groups[:half]: test += g
    for g in groups[half:]: src += g
header = """# Real people's questions, a third wave (after real-2-test.toml was
# judged): asked on public pages no case of the earlier real-*.toml came
# from, never a held-out source, restated in a member's voice, labelled
# blind by two writers as those were (see tests/corpus/real/).
# Split at random by label and page (seed 20261207) into sources and test.
# This is the {name} part{note}.
"""
for name, part, note in [('SOURCES', src, ': a writer drew examples from it (real/written3.jsonl), left out of knowledge/ since they made real dev worse; neither tune nor judge on it.\n# Since then a second dev part: the decision is fitted on it (README, Answerability)'),
                         ('TEST', test, ': judged once, never tuned on')]:
    with open(f'../real-3-{name.lower()}.toml', 'w') as f:
        f.write(header.format(name=name, note=note))
        write_cases(f, part)
    print(name, len(part), {k: sum(1 for c in part if c[0] == k) for k in ('answerable', 'not', 'borderline')})
