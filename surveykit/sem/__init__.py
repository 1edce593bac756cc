"""Structural equation models in lavaan's language, estimated with numpy and scipy.

The pipeline, one module per stage:

``syntax``       model text -> table of user statements (:func:`parse_model`)
``partable``     statements + data -> full parameter table with lavaan's defaults
``model``        parameter vector -> RAM matrices -> implied moments and Jacobian
``estimate``     ML discrepancy, gradient, Fisher scoring, expected information
``constraints``  ``:=`` and ``==`` expressions
``fit``          fit measures as lavaan's ``fitMeasures``
``standardize``  std.lv and std.all solutions
``modindices``   modification indices
``results``      the frozen results object returned by :func:`sem` and :func:`cfa`
``printing``     lavaan-style text and HTML summaries
``api``          :func:`sem`, :func:`cfa`, :func:`lrt`

The package shares its name with the function ``surveykit.sem``: once a
submodule is imported, Python binds ``surveykit.sem`` to this package, so the
package itself is callable and forwards to :func:`surveykit.sem.api.sem`.
"""

from __future__ import annotations

import sys
import types

from surveykit.sem.syntax import parse_model

__all__ = ["parse_model", "sem", "cfa", "lrt"]


def __getattr__(name: str):
    if name in ("sem", "cfa", "lrt"):
        from surveykit.sem import api
        return getattr(api, name)
    raise AttributeError(f"module 'surveykit.sem' has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from surveykit.sem.api import sem
        return sem(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
