"""The question-file form the merge scripts write (one [[case]] per (kind,
question, quotes, page)), and the label merge of the later waves."""
import glob, json


def esc(text):
    return json.dumps(text, ensure_ascii=False)


def write_cases(f, cases):
    for kind, question, quotes, url in cases:
        f.write('\n[[case]]\n')
        f.write(f'question = {esc(question)}\n')
        if kind == 'not':
            f.write('expect_none = true\n')
        else:
            f.write(f'expect_any = [{", ".join(esc(x) for x in quotes)}]\n')
            if kind == 'borderline':
                f.write('borderline = true\n')
        f.write(f'source = {esc(url)}\n')


def merged(pool_file, labels_a, labels_b):
    """Two blind label files merged over a pool (merge4.py, merge5.py): both
    answerable -> answerable (either's quotes found in knowledge/); both not
    -> not; anything else -> borderline, or not when neither named a quote."""
    pool = {r['id']: r for r in map(json.loads, open(pool_file))}
    a = {r['id']: r for r in map(json.loads, open(labels_a))}
    b = {r['id']: r for r in map(json.loads, open(labels_b))}
    knowledge = ''.join(open(f).read() + '\n' for f in sorted(glob.glob('../../../knowledge/*.md')))
    fold = lambda t: ' '.join(t.replace('*', '').replace('`', '').split()).lower()
    kf = fold(knowledge)
    cases = []
    for i, r in sorted(pool.items()):
        la, lb = a[i]['label'], b[i]['label']
        quotes = []
        for q in a[i].get('quotes', []) + b[i].get('quotes', []):
            q = q.strip()
            if fold(q) in kf and q not in quotes:
                quotes.append(q)
        kind = 'answerable' if la == lb == 'answerable' and quotes else 'not' if la == lb == 'not' else 'borderline'
        if kind == 'borderline' and not quotes:
            kind = 'not'  # no paragraph either annotator could name: nothing to answer with
        cases.append((kind, r['question'], quotes, r['url']))
    return cases
