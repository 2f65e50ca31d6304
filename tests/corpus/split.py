"""Splits the independently written corpus into dev and test halves, stratified
by the writer's group comment, with a fixed seed, before any tuning."""
import random, re, tomllib
random.seed(20261125)
def cases(path):
    text = open(path).read()
    blocks = re.split(r'\n(?=(?:#[^\n]*\n)*\[\[case\]\])', text)
    out = []
    for b in blocks:
        if '[[case]]' not in b: continue
        b = b.strip('\n')
        m = re.search(r'^#\s*([^\n]*)', b, re.M)
        group = (m.group(1) if m else 'none')
        group = re.sub(r'\s*[:+].*', '', group).strip()  # coarse group: "section", "phase 3", "comparison", "faq 2", "two"...
        tomllib.loads(b)  # each block parses alone
        out.append((group, b))
    return out
dev, test = [], []
for f in ['answerable_sections', 'answerable_structured', 'offtopic']:
    groups = {}
    for g, b in cases(f'/tmp/corpus/{f}.toml'):
        groups.setdefault(g, []).append(b)
    for g, bs in sorted(groups.items()):
        random.shuffle(bs)
        half = len(bs) // 2 + (len(bs) % 2 and random.random() < 0.5)
        dev += bs[:half]; test += bs[half:]
head = """# Realistic help-channel messages written from the article alone by writers who
# never saw the code or the other question sets: chatty, slang, backstory, two
# questions at once, phases named by time or content, and hard off-topic cases.
# Split at random (stratified by topic, seed 20261125) into dev and test halves
# before any tuning. `also_any`: phrases the reply must also contain (the second
# question of a two-question message).
"""
open('/work/main/tests/corpus/chatty-dev.toml','w').write(head + "# This is the DEV half: tune on it.\n\n" + "\n\n".join(dev) + "\n")
open('/work/main/tests/corpus/chatty-test.toml','w').write(head + "# This is the TEST half: judge once, never tune on it.\n\n" + "\n\n".join(test) + "\n")
for n in ['dev','test']:
    d = tomllib.load(open(f'/work/main/tests/corpus/chatty-{n}.toml','rb'))['case']
    print(n, len(d), sum(1 for c in d if c.get('expect_none')), sum(1 for c in d if 'also_any' in c))
