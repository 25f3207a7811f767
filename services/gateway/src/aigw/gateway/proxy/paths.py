"""Request path checks and route matching: `/{route_prefix}/<rest>` by dict lookups."""

from aigw.gateway.routing.table import Route


def path_problem(path: str, raw_path: bytes) -> str | None:
    """Why a path is refused (400), or None. `path` is percent-decoded, `raw_path` is not."""
    if "//" in path:
        return "Empty path segments are not allowed."
    if "/." in path and any(seg in (".", "..") for seg in path.split("/")):
        return "Dot segments are not allowed in the path."
    if b"%" in raw_path:
        lowered = raw_path.lower()
        if b"%2f" in lowered or b"%5c" in lowered:
            return "Encoded slashes are not allowed in the path."
    if "\\" in path:
        return "Backslashes are not allowed in the path."
    return None


def match_route(
    routes: dict[str, Route], max_segments: int, path: str
) -> tuple[Route, int] | tuple[None, int]:
    """The route whose prefix is the longest match of 1..max_segments leading segments.

    Returns the route and the number of segments matched (0 when nothing matched).
    """
    ends: list[int] = []
    pos = 0
    length = len(path)
    for _ in range(max_segments):
        pos = path.find("/", pos + 1)
        if pos == -1:
            ends.append(length)
            break
        ends.append(pos)
    for count in range(len(ends), 0, -1):
        route = routes.get(path[1 : ends[count - 1]])
        if route is not None:
            return route, count
    return None, 0


def rest_after(path: str, segments: int) -> str:
    """What follows the first `segments` segments of `path` ("" or starting with "/")."""
    pos = 0
    for _ in range(segments):
        pos = path.find("/", pos + 1)
        if pos == -1:
            return ""
    return path[pos:]
