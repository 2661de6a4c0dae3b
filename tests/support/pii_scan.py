"""RELIABILITY A3: personal data never reaches logs or spans. Every log record of the whole test
session (all loggers, formatted with extras and exception text) and every span captured by the
in-memory exporter is scanned at the end of the session for citizen IDs (any 18-character
string passing the GB 11643-1999 checksum) and for the phone numbers the tests use."""

from __future__ import annotations

import json
import logging
import re

from services.common.logsetup import JsonFormatter
from services.common.validators import citizen_id_check_char

CITIZEN_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d{9})(?![0-9A-Za-z])")


def citizen_ids_in(text: str) -> list[str]:
    found = []
    for candidate in CITIZEN_ID.findall(text):
        try:
            if citizen_id_check_char(candidate[:17]) == candidate[17].upper():
                found.append(candidate)
        except ValueError:
            continue
    return found


def phones_in(text: str) -> list[str]:
    return MOBILE.findall(text)


class CapturingHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted cannot leak either
            self.lines.append(record.getMessage())


def span_texts(spans) -> list[str]:
    texts = []
    for span in spans:
        texts.append(json.dumps({"name": span.name, "attributes": dict(span.attributes or {}),
                                 "events": [{"name": e.name, "attributes": dict(e.attributes or {})}
                                            for e in span.events]}, default=str, ensure_ascii=False))
    return texts


def leaks(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        hits = citizen_ids_in(text) + phones_in(text)
        if hits:
            found.append(f"{sorted(set(hits))} in: {text[:300]}")
    return found
