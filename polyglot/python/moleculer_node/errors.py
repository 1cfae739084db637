"""Errors in Moleculer's shape, so callers (and the gateway) map them as they
map errors of TypeScript nodes."""

from __future__ import annotations

from typing import Any


class MoleculerError(Exception):
    def __init__(self, message: str, code: int = 500, type: str = "", data: Any = None, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.type = type
        self.data = data
        self.retryable = retryable

    @property
    def name(self) -> str:
        return type(self).__name__

    def to_payload(self, node_id: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "message": self.message,
            "code": self.code,
            "type": self.type,
            "data": self.data,
            "retryable": self.retryable,
            "nodeID": node_id,
        }


class MoleculerClientError(MoleculerError):
    def __init__(self, message: str, code: int = 400, type: str = "", data: Any = None):
        super().__init__(message, code, type, data, retryable=False)


class ValidationError(MoleculerClientError):
    def __init__(self, message: str, data: list[dict[str, Any]]):
        super().__init__(message, 422, "VALIDATION_ERROR", data)


def error_payload(err: BaseException, node_id: str) -> dict[str, Any]:
    """Any exception as a RESPONSE packet's `error`; unexpected ones are a plain 500."""
    if isinstance(err, MoleculerError):
        return err.to_payload(node_id)
    return MoleculerError("Internal server error", 500, "INTERNAL").to_payload(node_id)
