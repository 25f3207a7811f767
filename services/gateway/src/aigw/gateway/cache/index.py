"""What one gateway knows of the shared cache: every entry it has seen (its own and the other
gateways', learnt from the bucket's watch), in memory, least recently used first out past a
byte budget. A lookup does no I/O. Semantic entries are also grouped by partition, their
vectors stacked in a matrix (rebuilt when the partition changes, at most `MAX_PER_PARTITION`
rows) so that a lookup is one matrix-vector product."""

import collections
from collections.abc import Callable

from aigw.gateway.cache.entry import CachedAnswer
from aigw.gateway.embeddings import Vectors

DEFAULT_MAX_BYTES = 256 * 1_048_576
# Entries per semantic partition (the oldest go first past it): a lookup after a write
# restacks the partition's matrix, which must stay a matter of a millisecond or so.
MAX_PER_PARTITION = 2_048


class _Partition:
    __slots__ = ("keys", "matrix")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.matrix: Vectors | None = None  # rows in `keys` order; None: to rebuild


class CacheIndex:
    def __init__(self, clock: Callable[[], float], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._clock, self.max_bytes = clock, max_bytes
        self._entries: collections.OrderedDict[str, CachedAnswer] = collections.OrderedDict()
        self._partitions: dict[str, _Partition] = {}
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, answer: CachedAnswer) -> None:
        self.remove(answer.key)
        self._entries[answer.key] = answer
        self.bytes += answer.size
        if answer.vector is not None:
            partition = self._partitions.setdefault(answer.partition, _Partition())
            partition.keys.append(answer.key)
            partition.matrix = None
            if len(partition.keys) > MAX_PER_PARTITION:
                self.remove(partition.keys[0])
        while self.bytes > self.max_bytes and self._entries:
            self.remove(next(iter(self._entries)))

    def remove(self, key: str) -> None:
        answer = self._entries.pop(key, None)
        if answer is None:
            return
        self.bytes -= answer.size
        partition = self._partitions.get(answer.partition)
        if partition is not None:
            partition.keys.remove(key)
            partition.matrix = None
            if not partition.keys:
                del self._partitions[answer.partition]

    def exact(self, key: str, ttl_seconds: int) -> CachedAnswer | None:
        answer = self._entries.get(key)
        if answer is None:
            return None
        if not answer.fresh(self._clock(), ttl_seconds):
            self.remove(key)
            return None
        self._entries.move_to_end(key)
        return answer

    def nearest(
        self, partition: str, vector: Vectors, threshold: float, ttl_seconds: int
    ) -> CachedAnswer | None:
        """The partition's fresh entry most similar to `vector`, if at least `threshold`."""
        group = self._partitions.get(partition)
        if group is None:
            return None
        if group.matrix is None:
            group.matrix = self._stack(group)
        if group.matrix.shape[1] != vector.shape[0]:
            return None
        import numpy as np  # loaded by then: the vector came from the embedder

        scores = group.matrix @ vector
        now = self._clock()
        close = np.flatnonzero(scores >= threshold)  # usually none or a few: sort only those
        for row in close[np.argsort(-scores[close])]:
            answer = self._entries[group.keys[row]]
            if answer.fresh(now, ttl_seconds):
                self._entries.move_to_end(answer.key)
                return answer
        return None

    def _stack(self, group: _Partition) -> Vectors:
        import numpy as np

        vectors = [self._entries[key].vector for key in group.keys]
        return np.stack([v for v in vectors if v is not None]).astype(np.float32, copy=False)
