"""The question-file form both merge scripts write: one [[case]] per (kind, question, quotes, page)."""
import json


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
