#!/usr/bin/env python3
"""Pools the mined questions, drops excluded sources and near-duplicates, writes to-label.jsonl and pool.jsonl."""
import json, glob, re, subprocess
rows = []
for f in sorted(glob.glob('mined-[A-G].jsonl')):
    for line in open(f):
        line = line.strip()
        if line:
            r = json.loads(line); r['slice'] = f[6:7]; rows.append(r)
def words(t): return set(re.findall(r"[a-z0-9']+", t.lower()))
out = []
urls = [r['url'] for r in rows]
res = subprocess.run(['./check_url.py'] + urls, capture_output=True, text=True).stdout.splitlines()
bad = {l.split(' ',1)[1] for l in res if l.startswith('EXCLUDED')}
dropped = {'excluded': 0, 'dup': 0, 'doubtful': 0}
# Doubtful sources, as the miners reported them: synthetic personas,
# possibly machine-written forums, sellers' quotes, wording from memory.
DOUBTFUL = ['aicommunities.gatherhq.com', 'theamazingcomputer.com', 'whataidoineed.com',
            'tjhnrl.com', 'bjdmk.com.cn', 'hamel.dev']
for r in rows:
    if any(d in r['url'] for d in DOUBTFUL): dropped['doubtful'] += 1; continue
    if r['url'] in bad: dropped['excluded'] += 1; continue
    w = words(r['question'])
    if any(len(w & words(o['question'])) / max(1, len(w | words(o['question']))) > 0.7 for o in out):
        dropped['dup'] += 1; continue
    out.append(r)
with open('pool.jsonl', 'w') as f:
    for i, r in enumerate(out):
        r['id'] = i; f.write(json.dumps(r) + '\n')
with open('to-label.jsonl', 'w') as f:
    for r in out: f.write(json.dumps({'id': r['id'], 'question': r['question']}) + '\n')
print(len(rows), 'mined;', len(out), 'kept;', dropped, '; pages', len({r['url'] for r in out}))
