#!/usr/bin/env python3
# Run from this folder: python3 merge.py (rewrites ../real-{sources,dev,test}.toml).
"""Merges two blind label files into the corpus and splits it dev/test at random.
Both answerable -> expect_any (either annotator's quotes); both not -> expect_none;
any other combination -> borderline (with every quote named)."""
import json, random, re, sys
from cases import write_cases
pool = {r['id']: r for r in map(json.loads, open('pool.jsonl'))}
def labels(n):
    out = {}
    for line in open(f'labels-{n}.jsonl'):
        if line.strip():
            r = json.loads(line); out[r['id']] = r
    return out
a, b = labels(1), labels(2)
assert set(a) == set(pool) == set(b), (len(a), len(pool), len(b))
knowledge = ''
import glob
for f in glob.glob('../../../knowledge/*.md'):
    knowledge += open(f).read() + '\n'
fold = lambda t: ' '.join(t.replace('*', '').replace('`', '').split()).lower()
kfold = fold(knowledge)
cases = []; stats = {}; badq = 0
for i, r in sorted(pool.items()):
    la, lb = a[i]['label'], b[i]['label']
    quotes = []
    for q in a[i].get('quotes', []) + b[i].get('quotes', []):
        q = q.strip().strip('"').strip()
        if fold(q) in kfold and q not in quotes: quotes.append(q)
        elif q: badq += 1
    if la == lb == 'answerable' and quotes: kind = 'answerable'
    elif la == lb == 'not': kind = 'not'
    else: kind = 'borderline'
    if la != lb and {'answerable','not'} == {la, lb}: stats['firm disagreement'] = stats.get('firm disagreement',0)+1
    stats[kind] = stats.get(kind, 0) + 1
    cases.append((kind, r['question'], quotes, r['url']))
print(stats, 'unmatched quotes', badq, file=sys.stderr)
rng = random.Random(20261205)
by = {}
for c in cases: by.setdefault(c[0], []).append(c)
dev, test, sources = [], [], []
for kind in sorted(by):
    group = by[kind]; rng.shuffle(group)
    half = (len(group) + 1) // 2
    quarter = (half + 1) // 2
    sources += group[:quarter]; dev += group[quarter:half]; test += group[half:]
header = """# Real people's questions about moving from software development into AI
# engineering: asked on public pages (forum threads, Q&A sites, posts and
# comments) found with the search tool, never from a held-out source, each
# restated lightly in a member's voice; `source` is its page. Two writers
# labelled every case blind to each other, to the code and to the bot's
# replies: answerable (naming a paragraph), not answerable, or borderline;
# a disagreement on a firm label made a case borderline, and `expect_any`
# holds every paragraph either named. Split at random, stratified by label
# (seed 20261205), into dev and test halves before any tuning.
# This is the {half} part{note}.
"""
notes = [
    ('sources', sources, ': the writers of knowledge/examples/real.md drew on it, so the bot has seen its questions reworded; neither tune nor judge on it'),
    ('dev', dev, ': tune and fit on it'),
    ('test', test, ': judge it once, never tune on it'),
]
header = header.replace("into dev and test halves before any tuning.", "into a test half and a dev half,\n# the dev half in two (sources for examples, dev to fit on), before any tuning.")
for name, part, note in notes:
    rng.shuffle(part)
    with open(f'../real-{name}.toml', 'w') as f:
        f.write(header.format(half=name.upper(), note=note))
        write_cases(f, part)
    print(name, len(part), {k: sum(1 for c in part if c[0]==k) for k in by}, file=sys.stderr)
