"""Validation: data problems as findings with stable reason codes.

:mod:`surveykit.validate.findings` defines the reason codes, :class:`Finding`
and the :class:`ExclusionPolicy`; :mod:`surveykit.validate.checks` the
Likert-quality and careless-responding checks over a sample.
"""

from __future__ import annotations

from surveykit.validate.findings import REASONS, SEVERITIES, ExclusionPolicy, Finding, Reason

__all__ = ["REASONS", "SEVERITIES", "ExclusionPolicy", "Finding", "Reason"]
