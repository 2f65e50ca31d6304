#!/usr/bin/env python3
"""Usage: check_url.py URL [URL...]  -> prints OK or EXCLUDED for each URL.
A URL is excluded when it is a held-out evaluation source or another page of
the same thread (same normalized page, same reddit post id, same long numeric id)."""
import re, sys
HELD = "/work/shared/eval/held-out-sources.txt"

def norm(u):
    u = u.strip().lower()
    u = re.sub(r'^[a-z]+://', '', u)
    u = re.sub(r'^(www\.|old\.|new\.|m\.)', '', u)
    u = u.split('#')[0]
    base, _, q = u.partition('?')
    return base.rstrip('/'), q

def ids(u):
    out = set()
    for m in re.finditer(r'/comments/([a-z0-9]{5,8})', u.lower()):
        out.add('r:' + m.group(1))
    for m in re.finditer(r'(\d{6,})', u):
        out.add('n:' + m.group(1))
    return out

held = [l.strip() for l in open(HELD) if l.strip() and not l.startswith('#')]
held_norm = [norm(h)[0] for h in held]
held_ids = set().union(*(ids(h) for h in held))

def excluded(u):
    n = norm(u)[0]
    for h in held_norm:
        if n == h or n.startswith(h + '/') or h.startswith(n + '/'):
            return True
    return bool(ids(u) & held_ids)

for u in sys.argv[1:]:
    print(('EXCLUDED ' if excluded(u) else 'OK ') + u)
