"""Expressions of ``:=`` and ``==`` statements: compiled, evaluated, differentiated.

An expression is R arithmetic over parameter labels: ``+ - * / ^``, parentheses,
numbers and the functions ``sqrt exp log abs sin cos tan``.  It is compiled to a
Python callable of a name -> value mapping after checking every node of its
syntax tree, so no other code can run.

Public helpers used by the results (and by bootstrap code):

``Expression(text, line)``  compile; ``.names`` the labels it uses;
``.evaluate(values)`` with a dict of floats (or complex numbers);
``jacobian(f, x)``  derivative of a vector function by the complex step, with
central differences as fall-back for non-analytic functions (``abs``).

Linear equality constraints ``==`` are turned into a reparameterisation
``theta = theta0 + N zeta`` by :func:`linear_constraints`; nonlinear ones are
imposed by the estimator (sequential quadratic programming, see
:meth:`surveykit.sem.estimate.MLEngine.fit`).
"""

from __future__ import annotations

import ast
import re

import numpy as np

from surveykit.errors import ModelSyntaxError

__all__ = ["Expression", "jacobian", "linear_constraints"]

_FUNCS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs, "sin": np.sin,
          "cos": np.cos, "tan": np.tan}
_NAME = re.compile(r"(?:[^\W\d]|\.(?!\d))[\w.]*")
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
            ast.Pow, ast.USub, ast.UAdd, ast.Constant, ast.Name, ast.Load, ast.Call)


class Expression:
    """A compiled ``:=`` / ``==`` expression."""

    def __init__(self, text: str, line: int | None = None):
        self.text = text
        self.line = line
        mapping: dict[str, str] = {}

        def rename(m: re.Match) -> str:
            name = m.group()
            if name in _FUNCS:
                return name
            return mapping.setdefault(name, f"_v{len(mapping)}")

        code = _NAME.sub(rename, text).replace("^", "**")
        where = f"line {line}: " if line is not None else ""
        try:
            tree = ast.parse(code, mode="eval")
        except SyntaxError:
            raise ModelSyntaxError(f"{where}cannot read the expression '{text}'.", line=line) from None
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise ModelSyntaxError(f"{where}the expression '{text}' uses an operation that is "
                                       f"not allowed.", line=line)
            if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name)
                                                   and node.func.id in _FUNCS and not node.keywords):
                raise ModelSyntaxError(f"{where}the expression '{text}' calls an unknown function "
                                       f"(allowed: {', '.join(_FUNCS)}).", line=line)
        self.names = list(mapping)
        self._py = {v: k for k, v in mapping.items()}
        self._code = compile(tree, "<expression>", "eval")

    def __reduce__(self):
        # compiled code does not pickle; bootstrap workers recompile from the text
        return (Expression, (self.text, self.line))

    def evaluate(self, values: dict):
        env = {py: values[name] for py, name in self._py.items()}
        return eval(self._code, {"__builtins__": {}, **_FUNCS}, env)  # noqa: S307 - checked tree


def jacobian(f, x: np.ndarray) -> np.ndarray:
    """Jacobian of ``f`` at ``x``: complex step, central differences if that fails."""
    x = np.asarray(x, dtype=float)
    f0 = np.atleast_1d(np.asarray(f(x), dtype=float))
    J = np.empty((f0.size, x.size))
    h = 1e-20
    try:
        with np.errstate(all="raise"):
            for k in range(x.size):
                xc = x.astype(complex)
                xc[k] += 1j * h
                J[:, k] = np.imag(np.atleast_1d(f(xc))) / h
        # abs() and friends are not analytic: the complex step returns nonsense there
        ok = np.all(np.isfinite(J))
    except (FloatingPointError, TypeError, ValueError):
        ok = False
    if not ok:
        for k in range(x.size):
            step = 1e-6 * max(1.0, abs(x[k]))
            xp, xm = x.copy(), x.copy()
            xp[k] += step
            xm[k] -= step
            J[:, k] = (np.atleast_1d(f(xp)) - np.atleast_1d(f(xm))) / (2 * step)
    return J


def linear_constraints(h, q: int, lines: list[int], rng_seed: int = 1):
    """Reparameterise ``h(theta) = 0`` (linear) as ``theta = theta0 + N zeta``.

    Returns ``(theta0, N, C)``: ``N`` an orthonormal basis of the null space of
    the constraint Jacobian, ``C`` an orthonormal basis of its row space (the
    constraints read ``C (theta - theta0) = 0``); ``None`` when a constraint is
    not linear in the parameters (the estimator then treats them as nonlinear).
    Raises ModelSyntaxError when linear constraints contradict each other.
    """
    rng = np.random.default_rng(rng_seed)
    a, b = rng.uniform(0.3, 1.3, q), rng.uniform(0.3, 1.3, q)
    Ja, Jb = jacobian(h, a), jacobian(h, b)
    for k in range(Ja.shape[0]):
        if not np.allclose(Ja[k], Jb[k], rtol=1e-7, atol=1e-9):
            return None
    J = Ja
    c = np.atleast_1d(h(np.zeros(q)))
    theta0, *_ = np.linalg.lstsq(J, -c, rcond=None)
    if not np.allclose(J @ theta0 + c, 0, atol=1e-9):
        raise ModelSyntaxError(f"line {lines[0]}: the '==' constraints contradict each other.",
                               line=lines[0])
    u, s, vt = np.linalg.svd(J)
    rank = int(np.sum(s > 1e-10 * max(1.0, s.max(initial=0))))
    N = vt[rank:].T
    return theta0, N, vt[:rank]
