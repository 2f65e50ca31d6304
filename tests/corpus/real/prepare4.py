#!/usr/bin/env python3
"""Fourth wave: pools mined4-*.jsonl against the earlier rounds (pooling.py);
writes pool4.jsonl and to-label4.jsonl."""
from pooling import pool
pool('mined4-*.jsonl', ['mined-*.jsonl', 'mined3-*.jsonl'], 4)
