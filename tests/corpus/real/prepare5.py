#!/usr/bin/env python3
"""Fifth mining round: pools mined5-*.jsonl against the earlier rounds
(pooling.py); writes pool5.jsonl and to-label5.jsonl."""
from pooling import pool
# Pages whose question its miner doubted was a real person's own: a panel's
# and a journalist's questions, an author's report of what someone asked,
# a site's summary of a post.
DOUBTED = ('blog.recruitology.com/2025/03/05/developers-in-the-ai-era', 'ru24.net/english/392403388',
           'petewarden.com/2016/04/18/how-to-break-into-machine-learning', 'theneuralfeed.com/article/')
pool('mined5-*.jsonl', ['mined-*.jsonl', 'mined3-*.jsonl', 'mined4-*.jsonl'], 5, DOUBTED)
