"""Structural equation models in lavaan's language, estimated with numpy and scipy.

The pipeline, one module per stage:

``syntax``       model text -> table of user statements (:func:`parse_model`)
``partable``     statements + data -> full parameter table with lavaan's defaults
``model``        parameter vector -> RAM matrices -> implied moments and Jacobian
``estimate``     ML discrepancy, gradient, Fisher scoring, expected information
``fit``          fit measures as lavaan's ``fitMeasures``
``standardize``  std.lv and std.all solutions
``modindices``   modification indices
``results``      the frozen results object returned by :func:`sem` and :func:`cfa`
"""

from __future__ import annotations

from surveykit.sem.syntax import parse_model

__all__ = ["parse_model", "sem", "cfa", "lrt"]


def __getattr__(name: str):
    if name in ("sem", "cfa", "lrt"):
        from surveykit.sem import api
        return getattr(api, name)
    raise AttributeError(f"module 'surveykit.sem' has no attribute {name!r}")
