"""Exceptions and warnings shared by every stage of surveykit.

A :class:`SurveykitError` is a user's mistake (a bad file, a malformed codebook,
a model-syntax error).  The CLI prints its message as one ``error: ...`` line
and exits non-zero; library callers catch it like any exception.

Warnings share one base class so that callers can filter them together::

    warnings.simplefilter("ignore", surveykit.errors.SurveykitWarning)
"""

from __future__ import annotations

__all__ = [
    "SurveykitError",
    "CodebookError",
    "ModelSyntaxError",
    "WorkbookError",
    "StoreError",
    "SurveykitWarning",
    "ConvergenceWarning",
    "HeywoodCaseWarning",
    "NotPositiveDefiniteWarning",
    "DataQualityWarning",
]


class SurveykitError(Exception):
    """Base class of every error caused by user input (files, options, models)."""


class CodebookError(SurveykitError, ValueError):
    """A questionnaire codebook is malformed.

    The message names the file, the line and the offending field.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.path, self.line, self.field = path, line, field
        super().__init__(message)


class ModelSyntaxError(SurveykitError, ValueError):
    """A model in lavaan syntax cannot be parsed.

    The message names line and column and shows the line with a caret.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 text: str | None = None):
        self.line, self.column, self.text = line, column, text
        super().__init__(message)


class WorkbookError(SurveykitError):
    """A workbook cannot be read or does not match its questionnaire."""


class StoreError(SurveykitError):
    """The survey store is missing, locked, corrupt or of an unknown schema."""


class SurveykitWarning(UserWarning):
    """Base class of every warning surveykit emits."""


class ConvergenceWarning(SurveykitWarning):
    """An iterative estimator stopped before meeting its convergence criterion."""


class HeywoodCaseWarning(SurveykitWarning):
    """A variance estimate is negative or a standardized loading exceeds one."""


class NotPositiveDefiniteWarning(SurveykitWarning):
    """A covariance matrix (observed, implied, latent or of the estimates) is not positive definite."""


class DataQualityWarning(SurveykitWarning):
    """The data are usable but weak for the requested analysis (few cases, empty categories)."""


class MeasurementError(SurveykitError, ValueError):
    """Data or options given to a measurement function cannot be used.

    The message names the argument, the rule and the offending value.
    """


class ReportError(SurveykitError):
    """A results bundle cannot be rendered: missing or unknown files, or a missing optional dependency."""
