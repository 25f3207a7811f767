"""`make semantic-eval` (`python -m aigw.devtools.semantic_eval`): how well an embedder tells a
paraphrase (the semantic cache should answer it) from another question on the same topic (it
must not), on a labelled set (default tests/data/semantic_pairs.jsonl: `{"topic", "a", "b",
"expect": "hit" | "miss"}` a line).

Each pair's two questions are embedded with the gateway's own `HttpEmbedder` (what the cache
compares: the last user messages) and their cosine similarity is compared with the threshold:
the hit rate is the share of paraphrase pairs at or above it, the false-hit rate the share of
near-miss pairs at or above it. It prints both at the threshold (default: the cache's,
`ResponseCache.similarity`), a sweep, and the best threshold (largest hit rate minus false-hit
rate). The embedder is GATEWAY_EMBEDDINGS_URL (with _API_KEY and _MODEL) or `--url`; with
neither, the local model (aigw.devtools.local_embeddings) is started for the run.
"""

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aigw.common.response_cache import ResponseCache
from aigw.devtools import local_embeddings
from aigw.devtools.processes import free_port
from aigw.gateway.embeddings import Embedder
from aigw.gateway.embeddings.http import HttpEmbedder

PAIRS = Path("tests/data/semantic_pairs.jsonl")
SWEEP = tuple(round(0.5 + 0.02 * step, 2) for step in range(25))
CACHE_THRESHOLD = ResponseCache(mode="semantic").similarity


@dataclass(frozen=True)
class Pair:
    topic: str
    a: str
    b: str
    hit: bool  # a paraphrase: the cache should answer one with the other


@dataclass(frozen=True)
class Scored:
    pairs: tuple[Pair, ...]
    similarities: tuple[float, ...]

    def of(self, hit: bool) -> list[float]:
        """The similarities of the paraphrase pairs (`hit`) or of the near misses."""
        return [s for p, s in zip(self.pairs, self.similarities, strict=True) if p.hit == hit]

    def rates(self, threshold: float) -> tuple[float, float]:
        """(hit rate, false-hit rate) at `threshold`."""
        hits, misses = self.of(True), self.of(False)
        above = sum(s >= threshold for s in hits), sum(s >= threshold for s in misses)
        return above[0] / len(hits), above[1] / len(misses)

    def best(self) -> tuple[float, float, float]:
        """The threshold (of 0.50 to 0.99 by 0.01) with the largest hit minus false-hit rate
        (the higher one on a tie: false hits cost more), and its two rates."""
        thresholds = [round(0.5 + 0.01 * step, 2) for step in range(50)]
        best = max(thresholds, key=lambda t: (self.rates(t)[0] - self.rates(t)[1], t))
        return (best, *self.rates(best))

    def wrong(self, threshold: float) -> Iterator[tuple[Pair, float]]:
        for pair, similarity in zip(self.pairs, self.similarities, strict=True):
            if (similarity >= threshold) != pair.hit:
                yield pair, similarity


def load_pairs(path: Path = PAIRS) -> tuple[Pair, ...]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return tuple(Pair(r["topic"], r["a"], r["b"], r["expect"] == "hit") for r in rows)


async def score(embedder: Embedder, pairs: Sequence[Pair], batch: int = 16) -> Scored:
    similarities: list[float] = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        vectors = await embedder.embed([text for p in chunk for text in (p.a, p.b)])
        similarities += [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(chunk))]
    return Scored(tuple(pairs), tuple(similarities))


def report(scored: Scored, threshold: float) -> str:
    hit, false = scored.rates(threshold)
    best, best_hit, best_false = scored.best()
    count = sum(p.hit for p in scored.pairs)
    spread = {
        kind: np.percentile(scored.of(want), [0, 50, 100]).round(3).tolist()
        for kind, want in (("paraphrases", True), ("near misses", False))
    }
    lines = [
        f"{count} paraphrase pairs, {len(scored.pairs) - count} near-miss pairs",
        *(
            f"similarity of {kind}: min {v[0]}, median {v[1]}, max {v[2]}"
            for kind, v in spread.items()
        ),
        f"at threshold {threshold}: hit rate {hit:.3f}, false-hit rate {false:.3f}",
        f"best threshold {best}: hit rate {best_hit:.3f}, false-hit rate {best_false:.3f}",
        "threshold  hit    false-hit",
        *(f"{t:<9}  {scored.rates(t)[0]:.3f}  {scored.rates(t)[1]:.3f}" for t in SWEEP),
        f"wrong at {threshold}:",
        *(
            f"  {'missed' if pair.hit else 'false hit'} {s:.3f}: {pair.a} | {pair.b}"
            for pair, s in scored.wrong(threshold)
        ),
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def local_model() -> Iterator[str]:
    """The local embedding model as its own process, for this run: its URL."""
    port = free_port()
    server = local_embeddings.process(port, Path(tempfile.mkdtemp()) / "embeddings.log")
    server.start()
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}/v1/embeddings"
    finally:
        server.stop()


async def evaluate(url: str, model: str, key: str | None, pairs: Sequence[Pair]) -> Scored:
    embedder = HttpEmbedder(url, model, key, timeout=120)
    try:
        return await score(embedder, pairs)
    finally:
        await embedder.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="semantic cache hit and false-hit rates")
    parser.add_argument("--url", default=os.environ.get("GATEWAY_EMBEDDINGS_URL"))
    parser.add_argument("--model", default=os.environ.get("GATEWAY_EMBEDDINGS_MODEL", "local"))
    parser.add_argument("--threshold", type=float, default=CACHE_THRESHOLD)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    args = parser.parse_args(argv)
    key = os.environ.get("GATEWAY_EMBEDDINGS_API_KEY")
    pairs = load_pairs(args.pairs)
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(local_model())
        print(f"embedder: {url} (model {args.model})", flush=True)
        scored = asyncio.run(evaluate(url, args.model, key, pairs))
    print(report(scored, args.threshold))


if __name__ == "__main__":
    main()
