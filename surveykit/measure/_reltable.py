"""The table :func:`surveykit.reliability` returns: a DataFrame that also carries the item table.

Imported only when :func:`surveykit.reliability` runs, because it needs pandas at import time.
"""

from __future__ import annotations

import pandas as pd

from surveykit.measure.results import format_frame, html_frame


class ReliabilityTable(pd.DataFrame):
    """Reliability per construct (a DataFrame) with the item-level table attached.

    Attributes
    ----------
    item_table : DataFrame
        Index (construct, item); columns n, mean, sd, r_drop (item-rest
        correlation), alpha_if_deleted and alpha_change.
    missing : str
        The missing-data rule used.

    Notes
    -----
    Operations on the table (slicing, ``round``, ``concat``) return plain
    DataFrames; keep the original to reach ``item_table``.
    """

    _metadata = ["item_table", "missing"]

    def summary(self) -> str:
        """Construct table and item table as text."""
        return "\n\n".join([format_frame(pd.DataFrame(self), 3, f"Reliability ({self.missing})"),
                            format_frame(self.item_table, 3, "Items")])

    def _repr_html_(self) -> str:  # type: ignore[override]
        return (html_frame(pd.DataFrame(self), 3, f"Reliability ({self.missing})")
                + html_frame(self.item_table, 3, "Items"))
