"""Workbook readers: .xlsx/.xlsm/.xls/.ods through python-calamine, .csv through the
standard library.

A reader opens a file, checks it against :class:`Limits` before parsing a
single cell, and hands out sheets as grids of Python values anchored at A1
(row 0 is sheet row 1), so that every value keeps its cell address.

Empty cells are ``""``; numbers are ``float``; dates ``datetime.date`` or
``datetime.datetime``; booleans ``bool``.  Formulas are read through their
cached value (a formula never calculated reads as empty).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surveykit.errors import WorkbookError

__all__ = ["Limits", "Workbook", "open_workbook", "col_letter", "cell_ref", "READABLE_SUFFIXES"]

READABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


@dataclass(frozen=True)
class Limits:
    """Safety limits checked before a workbook is parsed.

    The defaults admit any real survey (a million cells) and refuse what can
    only be an accident or an attack: a zip bomb, a sheet of a million rows.

    Parameters
    ----------
    max_file_bytes
        Size of the file on disk.
    max_uncompressed_bytes
        Sum of the uncompressed sizes of the members of an .xlsx/.ods zip.
    max_ratio
        Largest compression ratio of a single zip member; XML compresses
        about 10-30x, a bomb 1000x.
    max_rows, max_columns, max_cells
        Dimensions of any sheet that is read (5 million cells is 60,000 firms x
        80 items; a parsed cell costs about 40 bytes).
    """

    max_file_bytes: int = 200 * 2**20
    max_uncompressed_bytes: int = 512 * 2**20
    max_ratio: float = 200.0
    max_rows: int = 250_000
    max_columns: int = 2_000
    max_cells: int = 5_000_000


def col_letter(index: int) -> str:
    """Spreadsheet column letters of a 0-based column index (0 -> "A", 26 -> "AA")."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    """0-based column index of spreadsheet column letters ("A" -> 0)."""
    n = 0
    for ch in letters.strip().upper():
        if not "A" <= ch <= "Z":
            raise ValueError(f"not a column: {letters!r}")
        n = n * 26 + ord(ch) - 64
    return n - 1


def cell_ref(row: int, col: int) -> str:
    """A1-style reference of 0-based (row, col)."""
    return f"{col_letter(col)}{row + 1}"


class Workbook:
    """An open workbook: sheet names, visibility and grids of values.

    Use :func:`open_workbook`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(self, path: Path, fmt: str, sheet_names: list[str], hidden: set[str],
                 book: Any = None, csv_rows: list[list[Any]] | None = None,
                 limits: Limits | None = None):
        self.path = path
        self.format = fmt
        self.sheet_names = sheet_names
        self.hidden = hidden
        self._book = book
        self._csv = csv_rows
        self._limits = limits or Limits()
        self._cache: dict[str, list[list[Any]]] = {}
        self.merged: dict[str, list[tuple[int, int, int, int]]] = {}

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._book is not None:
            try:
                self._book.close()
            except Exception:  # closing twice or a reader without close()
                pass
            self._book = None

    @property
    def visible_sheets(self) -> list[str]:
        return [s for s in self.sheet_names if s not in self.hidden]

    def rows(self, name: str) -> list[list[Any]]:
        """All rows of a sheet from A1, as lists of equal length."""
        if name in self._cache:
            return self._cache[name]
        if self._csv is not None:
            rows = self._csv
        else:
            try:
                sheet = self._book.get_sheet_by_name(name)
                start = sheet.start or (0, 0)
                self._check_dims(name, sheet.height + start[0], sheet.width + start[1])
                rows = sheet.to_python(skip_empty_area=False)
                try:
                    self.merged[name] = [(a[0], a[1], b[0], b[1])
                                         for a, b in (sheet.merged_cell_ranges or [])]
                except Exception:  # merged ranges are not available for every format
                    self.merged[name] = []
            except WorkbookError:
                raise
            except Exception as exc:
                raise WorkbookError(f"{self.path.name}: cannot read sheet {name!r} "
                                    f"({_reason(exc)})") from None
        self._cache[name] = rows
        return rows

    def _check_dims(self, name: str, nrows: int, ncols: int) -> None:
        lim = self._limits
        if nrows * ncols > lim.max_cells and nrows <= lim.max_rows and ncols <= lim.max_columns:
            raise WorkbookError(f"{self.path.name}: sheet {name!r} has {nrows} x {ncols} cells, "
                                f"more than the limit of {lim.max_cells} (sheet {name})")
        if nrows > lim.max_rows:
            raise WorkbookError(f"{self.path.name}: sheet {name!r} has {nrows} rows, more than the "
                                f"limit of {lim.max_rows} (sheet {name})")
        if ncols > lim.max_columns:
            raise WorkbookError(f"{self.path.name}: sheet {name!r} has {ncols} columns, more than "
                                f"the limit of {lim.max_columns} (sheet {name})")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def _check_zip(path: Path, data_head: bytes, limits: Limits) -> dict[str, tuple[str, str]]:
    """Refuse zip bombs and oversized sheets before calamine inflates anything.

    Returns the declared dimension of each worksheet member (xlsx only).
    """
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise WorkbookError(f"{path.name}: not a valid workbook, the zip container is damaged "
                            f"or truncated (file)") from None
    dims: dict[str, tuple[str, str]] = {}
    with zf:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            if info.flag_bits & 0x1:
                raise WorkbookError(f"{path.name}: the workbook is encrypted (zip member "
                                    f"{info.filename})")
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio \
                    and info.file_size > 10 * 2**20:
                raise WorkbookError(
                    f"{path.name}: member {info.filename} expands {info.file_size // info.compress_size}"
                    f"-fold, a likely zip bomb (limit {limits.max_ratio:g}-fold)")
        if total > limits.max_uncompressed_bytes:
            raise WorkbookError(f"{path.name}: the workbook expands to {total / 2**20:.0f} MB, "
                                f"more than the limit of {limits.max_uncompressed_bytes / 2**20:.0f} MB "
                                f"(file)")
        # a sheet too large for the row or column limits takes megabytes of XML; below that
        # the limits are checked on the parsed sheet, which is then cheap
        for info in zf.infolist():
            if info.file_size > 4 * 2**20 and info.filename.startswith("xl/worksheets/sheet") and info.filename.endswith(".xml"):
                try:
                    with zf.open(info) as fh:
                        head = fh.read(4096)
                except Exception:
                    raise WorkbookError(f"{path.name}: member {info.filename} is damaged "
                                        f"(file)") from None
                m = _DIMENSION.search(head)
                if m and m.group(3):
                    nrows, ncols = int(m.group(4)), col_index(m.group(3).decode()) + 1
                    if nrows > limits.max_rows or ncols > limits.max_columns:
                        raise WorkbookError(
                            f"{path.name}: a sheet declares {nrows} rows x {ncols} columns, more "
                            f"than the limit of {limits.max_rows} x {limits.max_columns} "
                            f"({info.filename})")
                elif info.file_size > 12 * limits.max_cells:
                    # a cell takes at least 12 bytes of XML, so a smaller sheet cannot exceed
                    # the cell limit and is checked once parsed; a larger one without a
                    # dimension to trust is counted in the XML stream before it is loaded
                    nrows, ncells = _count_rows(zf, info)
                    if nrows > limits.max_rows:
                        raise WorkbookError(
                            f"{path.name}: a sheet has {nrows} rows, more than the limit of "
                            f"{limits.max_rows} ({info.filename})")
                    if ncells > limits.max_cells:
                        raise WorkbookError(
                            f"{path.name}: a sheet has {ncells} cells, more than the limit of "
                            f"{limits.max_cells} ({info.filename})")
    return dims


def _count_rows(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Rows and cells of a worksheet XML member, counted on the decompressed stream."""
    rows = cells = 0
    tail = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 22)
            if not chunk:
                break
            # a tag split between chunks is counted in the joined 3-byte tail + chunk start
            joint = tail + chunk[:3]
            rows += joint.count(b"<row") + chunk.count(b"<row")
            cells += (joint.count(b"<c ") + joint.count(b"<c>") + chunk.count(b"<c ")
                      + chunk.count(b"<c>"))
            tail = chunk[-3:]
    return rows, cells


def open_workbook(path: str | os.PathLike[str], limits: Limits | None = None) -> Workbook:
    """Open a workbook or CSV file for reading.

    Raises
    ------
    WorkbookError
        The file is missing, too large, not a workbook, encrypted, damaged, or
        of an unsupported type.  The message is one line
        ``<file>: <what> (<where>)``.
    """
    limits = limits or Limits()
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise WorkbookError(f"{path.name}: file not found ({path})") from None
    if not path.is_file():
        raise WorkbookError(f"{path.name}: not a file ({path})")
    if size > limits.max_file_bytes:
        raise WorkbookError(f"{path.name}: file is {size / 2**20:.0f} MB, more than the limit of "
                            f"{limits.max_file_bytes / 2**20:.0f} MB (file)")
    if size == 0:
        raise WorkbookError(f"{path.name}: the file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _open_csv(path, limits)
    if suffix not in READABLE_SUFFIXES:
        raise WorkbookError(f"{path.name}: unsupported file type {suffix or '(none)'!r} "
                            f"(expected .xlsx, .xls, .ods or .csv)")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if suffix in (".xlsx", ".xlsm", ".xlsb", ".ods"):
        if head.startswith(_OLE_MAGIC):
            raise WorkbookError(f"{path.name}: the workbook is password-protected (encrypted) "
                                f"or a legacy .xls saved as {suffix} (file)")
        if not head.startswith(_ZIP_MAGIC):
            raise WorkbookError(f"{path.name}: not a valid {suffix} workbook (file)")
        # deflate expands at most 1032-fold: a file this small can neither hold a bomb nor
        # a sheet that needs counting, and its sheets are checked once parsed
        if size * 1032 > min(limits.max_uncompressed_bytes, 12 * limits.max_cells):
            _check_zip(path, head, limits)
    elif suffix == ".xls" and not head.startswith(_OLE_MAGIC):
        raise WorkbookError(f"{path.name}: not a valid .xls workbook (file)")
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        meta = book.sheets_metadata
    except Exception as exc:
        kind = type(exc).__name__
        if suffix in (".xlsx", ".xlsm", ".xlsb", ".ods"):
            _check_zip(path, head, limits)  # a clearer message for a damaged zip
        what = "the workbook is password-protected" if "Password" in kind else \
            f"cannot read the workbook ({_reason(exc)})"
        raise WorkbookError(f"{path.name}: {what} (file)") from None
    from python_calamine import SheetVisibleEnum

    names = [m.name for m in meta]
    hidden = {m.name for m in meta if m.visible != SheetVisibleEnum.Visible}
    fmt = suffix.lstrip(".")
    return Workbook(path, fmt, names, hidden, book=book, limits=limits)


def _decode(data: bytes, name: str) -> str:
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, the encodings of Excel "CSV" on Chinese Windows
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise WorkbookError(f"{name}: cannot tell the text encoding (tried UTF-8 and GBK) "
                            f"(file)") from None


def _open_csv(path: Path, limits: Limits) -> Workbook:
    text = _decode(path.read_bytes(), path.name)
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text), dialect)):
            if i >= limits.max_rows:
                raise WorkbookError(f"{path.name}: more than the limit of {limits.max_rows} rows "
                                    f"(row {i + 1})")
            if len(row) > limits.max_columns:
                raise WorkbookError(f"{path.name}: {len(row)} columns, more than the limit of "
                                    f"{limits.max_columns} (row {i + 1})")
            rows.append(row)
    except csv.Error as exc:
        raise WorkbookError(f"{path.name}: malformed CSV ({_reason(exc)})") from None
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
    return Workbook(path, "csv", ["csv"], set(), csv_rows=rows, limits=limits)
