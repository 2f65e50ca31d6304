#!/usr/bin/env python3
"""Copies a knowledge folder without its hand-written vocabulary, the way an
operator's own docs arrive: every `keywords` and `aliases` directive, the
`keywords` and `row_keywords` front matter, synonyms.md and the example
messages (every file of kind "examples") are removed;
structure, FAQ questions and `phases` stay.

    python3 scripts/strip_vocabulary.py knowledge /tmp/kb-novocab

`tests/it/quality.rs` builds the same variant in Rust for its floors.
"""
import re, shutil, os, sys
src, dst = sys.argv[1], sys.argv[2]
shutil.rmtree(dst, ignore_errors=True); shutil.copytree(src, dst)
if os.path.exists(os.path.join(dst, 'synonyms.md')):
    os.remove(os.path.join(dst, 'synonyms.md'))
for root, _, files in os.walk(dst):
  for f in files:
    p = os.path.join(root, f); t = open(p).read()
    if re.search(r'^kind\s*=\s*"examples"', t, flags=re.M):
        os.remove(p); continue
    t = re.sub(r'<!--\s*(keywords|aliases):.*?-->\n?', '', t, flags=re.S)
    t = re.sub(r'^keywords\s*=.*\n', '', t, flags=re.M)
    t = re.sub(r'\[row_keywords\]\n(?:[^\[+].*\n)*', '', t)
    t = re.sub(r'^row_keywords\s*=\s*\{.*?\}\n', '', t, flags=re.M|re.S)
    open(p, 'w').write(t)
