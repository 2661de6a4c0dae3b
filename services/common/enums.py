"""Protobuf enums <-> the lower_snake labels REST and the databases use, derived from the enum's
descriptor (AIP-126 prefixes: `ContentCategory.CONTENT_CATEGORY_WARNING_EDUCATION` <->
`warning_education`), so no module keeps a hand-written copy of the mapping."""

from __future__ import annotations

import re


class EnumLabels:
    def __init__(self, enum_wrapper):
        descriptor = enum_wrapper.DESCRIPTOR
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", descriptor.name).upper() + "_"
        self.to_proto: dict[str, int] = {
            value.name.removeprefix(prefix).lower(): value.number
            for value in descriptor.values
            if value.number != 0
        }
        self.from_proto: dict[int, str] = {number: label for label, number in self.to_proto.items()}
        self.labels: tuple[str, ...] = tuple(self.to_proto)
