"""CSV/XLSX in and out for assessment imports and exports (SPEC 7.7: UTF-8 with or without BOM,
GB18030, XLSX). A file-level problem raises TableError; rows are returned with 1-based numbers."""

from __future__ import annotations

import csv
import io
import zipfile

_BOM = "\ufeff".encode()
XLSX_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024


class TableError(Exception):
    pass


def _decode(content: bytes) -> str:
    if content.startswith(_BOM):
        content = content[len(_BOM):]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("is neither UTF-8 nor GB18030 text")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(filename: str, content: bytes) -> list[list[str]]:
    name = (filename or "").lower()
    if name.endswith(".xlsx") or (not name.endswith(".csv") and content.startswith(b"PK\x03\x04")):
        from openpyxl import load_workbook

        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                if sum(i.file_size for i in archive.infolist()) > XLSX_MAX_UNCOMPRESSED_BYTES:
                    raise TableError("expands to too much data for one import")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                return [[_cell(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
            finally:
                workbook.close()
        except TableError:
            raise
        except Exception:  # openpyxl and zipfile raise many kinds for a damaged file
            raise TableError("is not a readable XLSX workbook") from None
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(_decode(content), newline=""))]
    except csv.Error as error:
        raise TableError(f"is not a readable CSV file ({error})") from None


def read_table(filename: str, content: bytes, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows as dicts keyed by the header's column names (which must include ``columns``)."""
    rows = [r for r in _rows(filename, content) if any(r)]
    if not rows:
        raise TableError("is empty")
    header = [h.lower().replace(" ", "_") for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise TableError(f"lacks columns: {', '.join(missing)}")
    return [(number, dict(zip(header, row + [""] * (len(header) - len(row)), strict=False)))
            for number, row in enumerate(rows[1:], start=2)]


def write_table(fmt: str, columns: list[str], rows: list[list]) -> tuple[bytes, str]:
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return _BOM + text.getvalue().encode(), "text/csv; charset=utf-8"
