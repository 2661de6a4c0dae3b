"""Text the platform refuses everywhere: NUL characters (U+0000). PostgreSQL cannot store them
in text columns, so accepting one would fail deep in a write (a 500); refusing it at the edge
names the field instead (SPEC NF-3)."""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.common.errors import FieldViolation, InvalidArgument

NUL = "\x00"
MESSAGE = "must not contain NUL characters"


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 7 has is_repeated and no label; older releases only label.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == FieldDescriptor.LABEL_REPEATED


def nul_fields(message: Message, prefix: str = "") -> Iterator[str]:
    """Paths of the string fields (at any depth) of ``message`` that contain NUL."""
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        repeated = _is_repeated(field)
        if field.type == FieldDescriptor.TYPE_STRING:
            if any(NUL in v for v in (value if repeated else [value])):
                yield path
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
            for item in value if repeated else [value]:
                yield from nul_fields(item, f"{path}.")


def reject_nul(message: Message) -> None:
    paths = list(nul_fields(message))
    if paths:
        raise InvalidArgument([FieldViolation(path, MESSAGE) for path in paths])
