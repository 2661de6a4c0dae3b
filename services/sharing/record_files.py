"""Record files (SPEC SH-1 bulk exchange): reading an import file into rows of raw record data,
and writing export files. Format only: publishing and reading are services/sharing/records.py.

Decisions:
- A file is CSV or XLSX, by the file name's extension, else by content (an XLSX is a zip). CSV is
  UTF-8 (a BOM is dropped), else GB18030 (what Excel in China writes); exports write UTF-8 with a
  BOM so that Excel opens them correctly.
- The header names the columns by field name (case and surrounding spaces ignored):
  ``publisher_record_id`` and the record type's input fields. A missing required column or an
  unknown column refuses the whole file (INVALID_ARGUMENT, field ``file.header``). Optional
  columns (free text, an optional reference, counts with a default) may be left out.
- Cells are text; numbers, booleans (true/false, 1/0, 是/否) and dates are converted per field,
  a cell that does not convert is a violation of that column. Blank rows are skipped.
- Row numbers: 1 is the first row after the header, counting skipped blank rows.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Boolean, Float, Integer

from services.common.errors import FieldViolation, InvalidArgument
from services.sharing.records import RecordType

MAX_ROWS = 10_000
XLSX_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
_BOM = b"\xef\xbb\xbf"
# Columns a file may leave out, with the value they then take.
OPTIONAL_DEFAULTS = {"description": "", "accident": "", "persons_injured": 0, "fatalities": 0, "days_lost": 0,
                     "persons": 1}
_TRUE, _FALSE = {"true", "1", "yes", "是", "y"}, {"false", "0", "no", "否", "n", ""}
# Export columns before the record's data fields.
EXPORT_METADATA = ("id", "tenant_code", "status", "version")


def _file_error(reason: str, where: str = "file") -> InvalidArgument:
    return InvalidArgument([FieldViolation(where, reason)])


def file_format(filename: str, content: bytes) -> str:
    name = (filename or "").strip().lower().rsplit("/", 1)[-1]
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".csv"):
        return "csv"
    if "." in name:
        raise _file_error("must be a .csv or .xlsx file")
    return "xlsx" if content.startswith(b"PK\x03\x04") else "csv"


def decode_csv(content: bytes) -> str:
    if content.startswith(_BOM):
        content = content[len(_BOM):]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error("is neither UTF-8 nor GB18030 text")


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(decode_csv(content), newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise _file_error(f"is not a readable CSV file (record {reader.line_num}: {exc})") from None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # only files need it

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > XLSX_MAX_UNCOMPRESSED_BYTES:
                raise _file_error("expands to too much data for one import")
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except InvalidArgument:
        raise
    except Exception:  # openpyxl and zipfile raise many kinds for a damaged file
        raise _file_error("is not a readable XLSX workbook") from None
    try:
        if not workbook.worksheets:
            raise _file_error("has no worksheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        try:
            for values in sheet.iter_rows(values_only=True):
                yield [_cell(v) for v in values]
        except InvalidArgument:
            raise
        except Exception:
            raise _file_error("is not a readable XLSX workbook") from None
    finally:
        workbook.close()


@dataclass
class ImportRow:
    number: int
    data: dict
    # Cells that did not convert (column -> reason); the row fails with these and the validator's.
    violations: list[FieldViolation] = field(default_factory=list)


def _column_kind(kind: RecordType, name: str) -> str:
    column_type = kind.model.__table__.columns[name].type
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, Integer):
        return "int"
    if isinstance(column_type, Float):
        return "float"
    return "text"


def _convert(kind: RecordType, name: str, text: str):
    text = text.strip()
    converter = _column_kind(kind, name)
    if converter == "text":
        return text
    if text == "" and name in OPTIONAL_DEFAULTS:
        return OPTIONAL_DEFAULTS[name]
    if converter == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("must be true or false")
    if converter == "int":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not math.isfinite(number) or not number.is_integer():
            raise ValueError("must be a whole number")
        return int(number)
    try:
        number = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(number):
        raise ValueError("must be a number")
    return number


def read_rows(kind: RecordType, content: bytes, filename: str) -> list[ImportRow]:
    """The file's data rows as raw record data. Raises InvalidArgument for the file as a whole."""
    if not content:
        raise _file_error("is empty")
    rows = _xlsx_rows(content) if file_format(filename, content) == "xlsx" else _csv_rows(content)
    allowed = ("publisher_record_id", *kind.inputs)
    header: list[str] | None = None
    result: list[ImportRow] = []
    number = 0
    for cells in rows:
        if header is None:
            if not any(c.strip() for c in cells):
                continue
            header = [c.replace("\ufeff", "").strip().lower() for c in cells]
            while header and header[-1] == "":
                header.pop()
            problems = []
            if unknown := [c or "(blank)" for c in header if c not in allowed]:
                problems.append(f"unknown column(s) {', '.join(unknown)}")
            if duplicated := sorted({c for c in header if c and header.count(c) > 1}):
                problems.append(f"duplicate column(s) {', '.join(duplicated)}")
            if missing := [c for c in allowed if c not in header and c not in OPTIONAL_DEFAULTS]:
                problems.append(f"missing column(s) {', '.join(missing)}")
            if problems:
                raise _file_error("; ".join(problems) + f"; the columns are {', '.join(allowed)}", "file.header")
            continue
        number += 1
        if not any(c.strip() for c in cells):
            continue
        if len(result) >= MAX_ROWS:
            raise _file_error(f"has more than {MAX_ROWS} data rows; split it")
        row = ImportRow(number=number, data={})
        for name in allowed:
            if name not in header:
                row.data[name] = OPTIONAL_DEFAULTS[name]
        for position, name in enumerate(header):
            text = cells[position] if position < len(cells) else ""
            try:
                row.data[name] = _convert(kind, name, text)
            except ValueError as error:
                row.violations.append(FieldViolation(name, str(error)))
        for position in range(len(header), len(cells)):
            if cells[position].strip():
                row.violations.append(FieldViolation("row", f"has a value in column {position + 1}, "
                                                            "which has no header"))
                break
        result.append(row)
    if header is None:
        raise _file_error(f"has no header row; the columns are {', '.join(allowed)}", "file.header")
    return result


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _export_value(value) -> str | int | float | bool:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # never a formula in a spreadsheet (CSV/formula injection)
    return value


def write_file(columns: tuple[str, ...], rows: list[dict], file_type: str) -> tuple[bytes, str]:
    """(content, media type) of an export: a header row, then one row per record; a column a
    record does not show (withheld by an agreement) is empty."""
    if file_type == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        def cell(value):  # control characters other than tab/newline cannot be stored in a worksheet
            value = _export_value(value)
            return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("records")
        sheet.append(list(columns))
        for row in rows:
            sheet.append([cell(row[c]) if c in row else None for c in columns])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), XLSX
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        cells = []
        for c in columns:
            value = _export_value(row[c]) if c in row else ""
            cells.append(("true" if value else "false") if isinstance(value, bool) else value)
        writer.writerow(cells)
    return _BOM + text.getvalue().encode("utf-8"), CSV
