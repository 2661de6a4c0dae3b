"""Exposure import from a file (SPEC 7.7: CSV in UTF-8 with or without BOM or GB18030, or XLSX).
Domain functions only: no gRPC here.

Decisions:
- A header row names the columns, in English or Chinese: industry_code (行业代码), year (年度),
  insured_persons (参保人数), hours_worked (工时, optional; blank = unknown). Blank rows are skipped.
- All rows or none: every bad field of every bad row is reported (row 1 = the first data row;
  row 0 = the file or its header) and then nothing is written. A good file is an upsert like
  ``exposure.upsert_exposure``, so importing it again changes nothing.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import InvalidArgument
from services.sharing import exposure

MAX_ROWS = 50_000
XLSX_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_HEADERS = {
    "industry_code": "industry_code", "行业代码": "industry_code", "行业": "industry_code",
    "year": "year", "年度": "year", "年份": "year",
    "insured_persons": "insured_persons", "参保人数": "insured_persons",
    "hours_worked": "hours_worked", "工时": "hours_worked", "工作小时数": "hours_worked",
}
REQUIRED = ("industry_code", "year", "insured_persons")


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    description: str


@dataclass(frozen=True)
class Report:
    rows: int
    upserted: int
    errors: list[RowError]


class _FileError(Exception):
    pass


def _decode(content: bytes) -> str:
    if content.startswith(_BOM):
        content = content[len(_BOM):]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _FileError("is neither UTF-8 nor GB18030 text")


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(_decode(content), newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise _FileError(f"is not a readable CSV file (record {reader.line_num}: {exc})") from None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # imported here: only imports need it

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > XLSX_MAX_UNCOMPRESSED_BYTES:
                raise _FileError("expands to too much data for one import")
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except _FileError:
        raise
    except Exception:  # openpyxl and zipfile raise many kinds for a damaged file
        raise _FileError("is not a readable XLSX workbook") from None
    try:
        if not workbook.worksheets:
            raise _FileError("has no worksheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        try:
            for values in sheet.iter_rows(values_only=True):
                yield [_cell(v) for v in values]
        except Exception:
            raise _FileError("is not a readable XLSX workbook") from None
    finally:
        workbook.close()


def _is_xlsx(filename: str, content: bytes) -> bool:
    name = filename.lower()
    if name.endswith(".xlsx"):
        return True
    if name.endswith(".csv"):
        return False
    if "." in name.rsplit("/", 1)[-1]:
        raise _FileError("must be a .csv or .xlsx file")
    return content.startswith(b"PK\x03\x04")


def _int(text: str, field: str, *, optional: bool = False) -> int | None:
    text = text.strip().replace(",", "")
    if not text and optional:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument.field(field, "must be a whole number") from None


def parse(content: bytes, filename: str) -> tuple[list[exposure.ExposureData], list[RowError], int]:
    """The rows, the errors (file-level ones at row 0) and how many data rows were read."""
    errors: list[RowError] = []
    data: list[exposure.ExposureData] = []
    numbers: list[int] = []
    try:
        rows = _xlsx_rows(content) if _is_xlsx(filename, content) else _csv_rows(content)
        header: list[str] | None = None
        number = 0
        for cells in rows:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [_HEADERS.get(unicodedata.normalize("NFKC", c).replace("\ufeff", "").strip().lower()
                                       .replace(" ", "_"), "") for c in cells]
                missing = [name for name in REQUIRED if name not in header]
                if missing:
                    raise _FileError(f"header lacks the column(s) {', '.join(missing)}")
                continue
            number += 1
            if number > MAX_ROWS:
                raise _FileError(f"has more than {MAX_ROWS} data rows")
            values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}
            parsed: dict[str, int | None] = {}
            for name in ("year", "insured_persons", "hours_worked"):
                try:
                    parsed[name] = _int(values.get(name, ""), name, optional=name == "hours_worked")
                except InvalidArgument as error:
                    errors.extend(RowError(number, v.field, v.description) for v in error.violations)
                    parsed[name] = None if name == "hours_worked" else 0  # reported; the other fields still checked
            data.append(exposure.ExposureData(industry_code=values.get("industry_code", "").strip(),
                                              year=parsed["year"], insured_persons=parsed["insured_persons"],
                                              hours_worked=parsed["hours_worked"]))
            numbers.append(number)
        if header is None:
            raise _FileError("is empty: it needs a header row")
    except _FileError as error:
        return [], [RowError(0, "file", str(error))], 0
    if data:
        try:
            exposure.validate_batch(data, limit=MAX_ROWS)
        except InvalidArgument as error:
            for violation in error.violations:
                index, _, field = violation.field.partition("].")
                row = numbers[int(index.removeprefix("exposures["))] if index.startswith("exposures[") else 0
                if not any(e.row == row and e.field == field for e in errors):  # not already unreadable
                    errors.append(RowError(row, field or violation.field, violation.description))
    errors.sort(key=lambda e: (e.row, e.field))
    return data, errors, number


async def import_exposure(*, session: AsyncSession, caller: Caller, content: bytes, filename: str) -> Report:
    """Parse, validate and upsert (the caller commits); nothing is written when any row is bad."""
    rows, errors, count = parse(content, filename)
    if errors or not rows:
        return Report(rows=count, upserted=0, errors=errors or [RowError(0, "file", "has no data rows")])
    for start in range(0, len(rows), exposure.MAX_BATCH):
        await exposure.upsert_exposure(session=session, caller=caller, rows=rows[start:start + exposure.MAX_BATCH])
    return Report(rows=count, upserted=len(rows), errors=[])
