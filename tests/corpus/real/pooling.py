"""Pools a mining round (prepare4.py, prepare5.py): reads the miners' JSON
Lines, drops pages check_url.py excludes, pages an earlier round used (same
page or thread id), pages whose miner doubted the question, and
near-duplicates (of each other or of an earlier round's questions); writes
pool{N}.jsonl and to-label{N}.jsonl. Run from the miners' folder."""
import json, glob, re, subprocess


def rows_of(pattern):
    out = []
    for f in sorted(glob.glob(pattern)):
        for line in open(f):
            line = line.strip()
            if not line: continue
            try: out.append(json.loads(line))
            except json.JSONDecodeError: pass
    return out


def words(t): return set(re.findall(r"[a-z0-9']+", t.lower()))
def page(u): return re.sub(r'^[a-z]+://(www\.|old\.|new\.|m\.)?', '', u.strip().lower()).split('#')[0].rstrip('/')
def thread_ids(u): return {m for m in re.findall(r'/comments/([a-z0-9]{5,8})', u.lower())} | set(re.findall(r'(\d{6,})', u))


def pool(new, earlier_patterns, n, doubted=()):
    earlier = [r for p in earlier_patterns for r in rows_of(p)]
    used_pages = {page(r['url']) for r in earlier}
    used_ids = set().union(*(thread_ids(r['url']) for r in earlier))
    earlier_words = [words(r['question']) for r in earlier]
    rows = rows_of(new)
    res = subprocess.run(['./check_url.py'] + [r['url'] for r in rows], capture_output=True, text=True).stdout.splitlines()
    bad = {l.split(' ', 1)[1] for l in res if l.startswith('EXCLUDED')}
    dropped = {'excluded': 0, 'doubted': 0, 'used page': 0, 'dup': 0}
    out = []
    for r in rows:
        if r['url'] in bad: dropped['excluded'] += 1; continue
        if any(d in r['url'] for d in doubted): dropped['doubted'] += 1; continue
        if page(r['url']) in used_pages or thread_ids(r['url']) & used_ids: dropped['used page'] += 1; continue
        w = words(r['question'])
        sim = lambda o: len(w & o) / max(1, len(w | o))
        if any(sim(words(o['question'])) > 0.6 for o in out) or any(sim(o) > 0.6 for o in earlier_words):
            dropped['dup'] += 1; continue
        out.append(r)
    with open(f'pool{n}.jsonl', 'w') as f:
        for i, r in enumerate(out):
            r['id'] = i; f.write(json.dumps(r, ensure_ascii=False) + '\n')
    with open(f'to-label{n}.jsonl', 'w') as f:
        for r in out: f.write(json.dumps({'id': r['id'], 'question': r['question']}, ensure_ascii=False) + '\n')
    print(len(rows), 'mined;', len(out), 'kept;', dropped, '; pages', len({page(r['url']) for r in out}))
