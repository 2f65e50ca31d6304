#!/usr/bin/env python3
# The third wave (pool3.jsonl, labels-3-{1,2}.jsonl): merged as merge.py does,
# split at random by label (seed 20261206) into sources and test halves, then
# every test case whose page also gave a sources case moved to sources.
# Writes ../real-2-{sources,test}.toml; run from this folder.
import json, random, glob
from cases import write_cases
pool={r['id']:r for r in map(json.loads, open('pool3.jsonl'))}
a={r['id']:r for r in map(json.loads, open('labels-3-1.jsonl'))}
b={r['id']:r for r in map(json.loads, open('labels-3-2.jsonl'))}
knowledge=''.join(open(f).read()+'\n' for f in sorted(glob.glob('../../../knowledge/*.md')))
fold=lambda t:' '.join(t.replace('*','').replace('`','').split()).lower()
kf=fold(knowledge)
cases=[]
for i,r in sorted(pool.items()):
    la,lb=a[i]['label'],b[i]['label']
    quotes=[]
    for q in a[i].get('quotes',[])+b[i].get('quotes',[]):
        q=q.strip()
        if fold(q) in kf and q not in quotes: quotes.append(q)
    kind='answerable' if la==lb=='answerable' and quotes else 'not' if la==lb=='not' else 'borderline'
    cases.append((kind,r['question'],quotes,r['url']))
rng=random.Random(20261206)
by={}
for c in cases: by.setdefault(c[0],[]).append(c)
src,test=[],[]
for k in sorted(by):
    g=by[k]; rng.shuffle(g); h=(len(g)+1)//2
    src+=g[:h]; test+=g[h:]
srcpages={c[3] for c in src}
src+=[c for c in test if c[3] in srcpages]
test=[c for c in test if c[3] not in srcpages]
header = """# Real people's questions, a second wave (after the first decision's test
# was judged): asked on public pages no case of real-{{sources,dev,test}}.toml
# came from, never a held-out source, restated in a member's voice,
# labelled blind by two writers as those were (see tests/corpus/real/).
# Split at random by label (seed 20261206) into sources and test; a test
# case whose page gave a sources case went to sources.
# This is the {name} part{note}.
"""
for name, part, note in [('SOURCES', src, ': the writer of the second half of knowledge/examples/real.md drew on it; neither tune nor judge on it'),
                         ('TEST', test, ': judged once, never tuned on')]:
    with open(f'../real-2-{name.lower()}.toml','w') as f:
        f.write(header.format(name=name, note=note))
        write_cases(f, part)
    print(name, len(part))
