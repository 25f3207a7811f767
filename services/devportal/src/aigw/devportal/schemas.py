"""The JSON convention of the management APIs, shared by every service (aigw.common.schemas)."""

from aigw.common.schemas import CamelModel, Collection, RequestModel, read_only

__all__ = ["CamelModel", "Collection", "RequestModel", "read_only"]
