"""Analysis-ready exports with formula injection neutralised.

A cell whose text starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
return) is run as a formula by spreadsheet programs; such text is prefixed
with an apostrophe (OWASP, "CSV Injection").  Numbers are never touched, so a
negative number stays a number.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surveykit.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["neutralise", "export_responses"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with ``'``."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def _safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(neutralise).astype(object)
    return out


def export_responses(df: pd.DataFrame, path: str | os.PathLike[str]) -> int:
    """Write responses to .csv (UTF-8 with BOM, for Excel), .xlsx or .parquet.

    Returns the number of rows written.

    Raises
    ------
    StoreError
        Unknown suffix, or parquet without pyarrow.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _safe(df).to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        import openpyxl

        safe = _safe(df)
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("responses")
        ws.append(list(safe.columns))
        for row in safe.itertuples(index=False):
            ws.append([None if (v is None or v != v) else
                       (v.item() if hasattr(v, "item") else v) for v in row])
        wb.save(path)
    elif suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise StoreError(f"{path.name}: writing parquet needs the pyarrow package "
                             f"(pip install pyarrow)") from None
        df.to_parquet(path, index=False)  # a typed binary format: no formulas to neutralise
    else:
        raise StoreError(f"{path.name}: unknown export format {suffix or '(none)'!r} "
                         f"(use .csv, .xlsx or .parquet)")
    return len(df)
