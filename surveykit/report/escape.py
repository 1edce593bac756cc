"""Make text from the data safe in every output format.

Firm names, free-text answers and file names come from workbooks that many
hands have filled in.  Each output format has its own hazards:

============  =================================================================
format        hazard and treatment
============  =================================================================
HTML          markup (``<script>``): Jinja autoescaping (:func:`html`)
Markdown      markup and table syntax: entities and backslashes (:func:`markdown`)
LaTeX         ``\\ & % $ # _ { } ~ ^`` break or inject commands (:func:`latex`)
CSV / XLSX    a cell starting with ``= + - @`` (or tab, CR) runs as a formula
              in a spreadsheet: prefixed with ``'`` (:func:`spreadsheet`)
docx          XML 1.0 forbids most control characters: removed (:func:`docx`)
============  =================================================================

Numbers are never passed through :func:`spreadsheet`: a negative number is a
number, not a formula, and the CSV writers keep numbers numeric.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["html", "markdown", "latex", "spreadsheet", "docx", "FORMULA_PREFIXES", "Markup"]

# OWASP "CSV injection": these leading characters make Excel, LibreOffice and
# Google Sheets evaluate a cell.  Full-width forms are included because some
# spreadsheet locales normalise them to their ASCII counterparts.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def html(text: object) -> Markup:
    """Escape text for HTML (the same function Jinja's autoescape uses)."""
    return escape("" if text is None else str(text))


# One pass, so that the backslashes and braces added for one character are
# never escaped again by the rule for another.
_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # characters of our own labels that the standard text fonts lack
    "−": "$-$",
    "χ": r"$\chi$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "ω": r"$\omega$",
    "Δ": r"$\Delta$",
    "²": r"\textsuperscript{2}",
    "√": r"$\surd$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "×": r"$\times$",
    "±": r"$\pm$",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX))
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def latex(text: object) -> str:
    r"""Escape text for LaTeX text mode.

    The ten special characters ``\ & % $ # _ { } ~ ^`` become their text-mode
    commands; control characters are removed and newlines become spaces.

    Examples
    --------
    >>> latex("R&D_100% {x}")
    'R\\&D\\_100\\% \\{x\\}'
    """
    s = "" if text is None else str(text)
    s = _CONTROL_RE.sub("", s).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _LATEX_RE.sub(lambda m: _LATEX[m.group(0)], s)


_MD_INLINE_RE = re.compile(r"([\\`*_\[\]|])")
_MD_LINE_START_RE = re.compile(r"^(\s*)(?:([#+\-!])|(\d+)([.)]))")
_ENTITY_RE = re.compile(r"&(?=#?\w+;)")


def markdown(text: object, *, line_start: bool = True) -> str:
    """Escape text for inline Markdown (including inside a pipe table cell).

    Markup characters become entities (so a renderer never sees a tag), Markdown
    punctuation is backslash-escaped, and newlines become spaces so a value can
    never end a table row.  ``line_start=False`` (table cells) leaves a leading
    ``#``, ``-`` or ``1.`` alone: inside a cell they cannot start a block.
    """
    s = "" if text is None else str(text)
    s = _CONTROL_RE.sub("", s).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    s = _MD_INLINE_RE.sub(r"\\\1", s)
    s = _ENTITY_RE.sub("&amp;", s).replace("<", "&lt;").replace(">", "&gt;")
    if not line_start:
        return s
    # a value starting like a heading, list item or ordered list must stay text when it
    # opens a line (a list item, a paragraph); "1." is escaped as "1\." (CommonMark)
    return _MD_LINE_START_RE.sub(
        lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)), s)


def spreadsheet(text: object) -> str:
    """Neutralise a text cell for CSV or XLSX: prefix ``'`` when a spreadsheet would evaluate it.

    Examples
    --------
    >>> spreadsheet("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> spreadsheet("Ningbo")
    'Ningbo'
    """
    s = "" if text is None else str(text)
    return "'" + s if s.startswith(FORMULA_PREFIXES) else s


def docx(text: object) -> str:
    """Remove the characters a Word document cannot hold (XML 1.0 control characters)."""
    s = "" if text is None else str(text)
    return _CONTROL_RE.sub("", s)
