"""The JSON convention of the management APIs, shared by every service (aigw.common.schemas)."""

from aigw.common.schemas import CamelModel, Collection, RequestModel

__all__ = ["CamelModel", "Collection", "RequestModel"]
