"""Backend protection: at most N requests per second to an API's provider per key type, across
all applications (per gateway process: a fleet of P processes lets up to P x N through)."""

from aigw.common.events import KeyType


class BackendThrottle:
    def __init__(self) -> None:
        self._seconds: dict[tuple[str, KeyType], list[int]] = {}  # → [second, count]

    def allow(self, api_id: str, key_type: KeyType, per_second: int, now: float) -> bool:
        second = int(now)
        slot = self._seconds.get((api_id, key_type))
        if slot is None or slot[0] != second:
            self._seconds[(api_id, key_type)] = [second, 1]
            return per_second >= 1
        if slot[1] >= per_second:
            return False
        slot[1] += 1
        return True
