#!/usr/bin/env python3
# The fifth mining round (pool5.jsonl, labels-5-{1,2}.jsonl), merged as
# merge.py does: both answerable -> expect_any (either's quotes); both not
# -> expect_none; anything else -> borderline. Too few for a sources part
# (53 questions): all of it is a test part. Writes ../real-4-test.toml;
# run from this folder.
import sys
sys.path.insert(0, '.')
from cases import merged, write_cases
cases = merged('pool5.jsonl', 'labels-5-1.jsonl', 'labels-5-2.jsonl')
header = """# Real people's questions, a fourth wave (after real-3-test.toml was
# judged and the decision refitted): asked on public pages no case of the
# earlier real-*.toml came from, never a held-out source, restated in a
# member's voice, labelled blind by two writers as those were (see
# tests/corpus/real/). Every case is test: judged once, never tuned on.
"""
with open('../real-4-test.toml', 'w') as f:
    f.write(header)
    write_cases(f, cases)
print('TEST', len(cases), {k: sum(1 for c in cases if c[0] == k) for k in ('answerable', 'not', 'borderline')})
