"""Public entry points: :func:`sem`, :func:`cfa` and :func:`lrt`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from surveykit.errors import (
    ConvergenceWarning,
    HeywoodCaseWarning,
    NotPositiveDefiniteWarning,
    SurveykitError,
)

__all__ = ["sem", "cfa", "lrt"]

_ESTIMATORS = ("ML", "MLR")
_MISSING = ("listwise", "ml")


def _group_arrays(data, names: list[str], group: str | None, missing: str):
    """Per-group float arrays (rows in data order), the group labels, rows dropped."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(data)
    try:
        # column by column: much cheaper than a pandas column selection
        X = np.column_stack([data[c].to_numpy(dtype=float) for c in names]) if names \
            else np.empty((len(data), 0))
    except (TypeError, ValueError):
        for c in names:
            converted = pd.to_numeric(data[c], errors="coerce")
            bad = data[c][converted.isna() & data[c].notna()]
            if len(bad):
                raise SurveykitError(f"column '{c}' of the data is not numeric "
                                     f"(row {bad.index[0]} holds {bad.iloc[0]!r}).") from None
        raise
    keep = np.ones(X.shape[0], bool)
    if missing == "listwise":
        keep &= ~np.isnan(X).any(axis=1)
    labels: tuple = ()
    if group is None:
        return [X[keep]], labels, int((~keep).sum())
    gcol = data[group].to_numpy()
    keep &= ~pd.isna(gcol)
    labels = tuple(pd.unique(gcol[keep]))
    arrays = [X[keep & (gcol == g)] for g in labels]
    return arrays, labels, int((~keep).sum())


def sem(model: str, data, *, group: str | None = None, estimator: str = "ML",
        missing: str = "listwise", std_lv: bool = False, group_equal: Sequence[str] = (),
        group_partial: Sequence[str] = (), bootstrap: int = 0, seed: int | None = None,
        meanstructure: bool = False, n_jobs: int = 1, boot_ci: str = "perc",
        boot_standardized: bool = False, progress=None):
    """Fit a structural equation model by maximum likelihood, as lavaan's ``sem()``.

    Parameters
    ----------
    model : str
        The model in lavaan syntax (see :func:`surveykit.parse_model`).
    data : pandas.DataFrame
        One row per respondent; columns named as the observed variables.
    group : str, optional
        Column whose values define the groups (in order of first appearance).
    estimator : {"ML", "MLR"}
        ML with expected-information standard errors, or ML estimates with
        Huber-White standard errors and the Yuan-Bentler scaled test (MLR).
    missing : {"listwise", "ml"}
        Drop incomplete rows, or full-information ML over all answers.
    std_lv : bool
        Fix factor variances to 1 instead of the first loadings.
    group_equal : sequence of str
        Parameter kinds held equal across groups: "loadings", "intercepts",
        "means", "residuals", "residual.covariances", "lv.variances",
        "lv.covariances", "regressions".
    group_partial : sequence of str
        Single parameters freed from ``group_equal``, e.g. ``"visual=~x2"``, ``"x3~1"``.
    bootstrap : int
        Number of nonparametric bootstrap draws (resampling rows within groups);
        with draws, standard errors and
        the intervals of the estimates table come from them (lavaan's
        ``se = "bootstrap"`` with percentile intervals); ``result.bootstrap``
        holds the draws and their BC intervals.
    seed : int, optional
        Seed of the bootstrap draws.
    meanstructure : bool
        Add intercepts and latent means (automatic with groups, ``~ 1``
        statements or ``missing="ml"``).
    n_jobs : int
        Processes refitting bootstrap draws (``-1``: every core).  Worker
        processes are spawned, so a script using ``n_jobs != 1`` needs the
        ``if __name__ == "__main__":`` guard.  The draws do not depend on it.
    boot_ci : {"perc", "bc", "bca"}
        Interval of the estimates table under ``bootstrap`` (lavaan's
        ``boot.ci.type``: ``"perc"``, ``"bca.simple"``, and BCa, whose
        acceleration needs one leave-one-out refit per case; only ``"bca"``
        runs them).
    boot_standardized : bool
        Also collect the ``std.all`` value of every row and ``:=`` parameter
        from each draw (``result.bootstrap`` names them ``std_all:<lhs><op><rhs>``).
    progress : callable, optional
        ``progress(done, total)`` after bootstrap draws (see
        :func:`surveykit.sem.bootstrap.bootstrap_draws`), e.g. to drive a progress bar.

    Returns
    -------
    SEMResult

    Raises
    ------
    ModelSyntaxError
        The model cannot be parsed or names variables that are not in the data.
    SurveykitError
        An option is not one of the allowed values.

    Warns
    -----
    ConvergenceWarning, HeywoodCaseWarning, NotPositiveDefiniteWarning

    Notes
    -----
    ML minimises ``F = sum_g N_g/N [log|Sigma_g| - log|S_g| + tr(S_g Sigma_g^-1) - p
    + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]`` with ``S_g`` divided by
    ``N_g``; see :mod:`surveykit.sem.estimate`.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
    *Journal of Statistical Software*, 48(2), 1-36.

    Examples
    --------
    >>> fit = surveykit.sem(model, data)            # doctest: +SKIP
    >>> fit.fit["cfi"], fit.estimates.head()         # doctest: +SKIP

    In R: ``lavaan::sem(model, data = data)``.
    """
    from surveykit.sem.estimate import MLEngine, blas_single_thread, sample_stats
    from surveykit.sem.partable import build_partable
    from surveykit.sem.results import SEMResult
    from surveykit.sem.syntax import parse_rows

    est = str(estimator).upper()
    if est not in _ESTIMATORS:
        raise SurveykitError(f"estimator ({estimator!r}) must be one of {', '.join(_ESTIMATORS)}.")
    if missing not in _MISSING:
        raise SurveykitError(f"missing ({missing!r}) must be one of {', '.join(_MISSING)}.")
    if boot_ci not in ("perc", "bc", "bca"):
        raise SurveykitError(f"boot_ci ({boot_ci!r}) must be one of perc, bc, bca.")
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    if isinstance(group_partial, str):
        group_partial = (group_partial,)
    options = dict(group=group, estimator=est, missing=missing, std_lv=std_lv,
                   group_equal=tuple(group_equal), group_partial=tuple(group_partial),
                   bootstrap=bootstrap, seed=seed, meanstructure=meanstructure, n_jobs=n_jobs,
                   boot_ci=boot_ci, boot_standardized=boot_standardized)
    columns = list(getattr(data, "columns", []))
    if group is not None and group not in columns:
        raise SurveykitError(f"group ({group!r}) is not a column of the data.")
    flat = parse_rows(model)
    ngroups = 1
    if group is not None:
        import pandas as pd
        ngroups = len(pd.unique(data[group].dropna()))
    if group_equal and ngroups < 2:
        raise SurveykitError("group_equal needs several groups (give group=).")
    pt = build_partable(flat, data_names=[c for c in columns if c != group], ngroups=ngroups,
                        std_lv=std_lv, meanstructure=meanstructure or missing == "ml",
                        group_equal=group_equal, group_partial=group_partial)
    arrays, labels, dropped = _group_arrays(data, pt.ov_names, group, missing)
    for g, a in enumerate(arrays):
        if a.shape[0] < 2:
            where = f" in group {labels[g]!r}" if labels else ""
            raise SurveykitError(f"data have {a.shape[0]} complete row(s){where}; "
                                 f"a model needs at least 2.")
    # one BLAS thread: SEM matrices are small, threads only contend (see blas_single_thread)
    with blas_single_thread(len(pt.ov_names) >= 20):
        if missing == "ml":
            complete = [a[~np.isnan(a).any(axis=1)] for a in arrays]
            start_arrays = [c if c.shape[0] > a.shape[1]
                            else np.where(np.isnan(a), np.nanmean(a, 0), a)
                            for c, a in zip(complete, arrays, strict=True)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotPositiveDefiniteWarning)
                engine = MLEngine(pt, sample_stats(start_arrays))
            solution = engine.fit()
        else:
            engine = MLEngine(pt, sample_stats(arrays))
            solution = engine.fit()
        if not solution.converged:
            warnings.warn(f"the estimation did not converge after {solution.iterations} "
                          f"iterations; the estimates are not trustworthy.", ConvergenceWarning,
                          stacklevel=_caller_level())
        vcov = engine.vcov(solution.theta)
        result = SEMResult(model=model, engine=engine, solution=solution, vcov=vcov,
                           group_labels=labels, group=group, estimator=est, missing=missing,
                           options=options, n_dropped=dropped)
        df = result.df
        if missing == "ml":
            from surveykit.sem.fiml import fiml
            fiml_res = fiml(result.moments(), arrays, df=df, x0=solution.theta, robust=est == "MLR")
            solution = type(solution)(theta=np.asarray(fiml_res.x, float), fmin=solution.fmin,
                                      iterations=solution.iterations,
                                      converged=bool(fiml_res.converged))
            vcov = fiml_res.vcov_robust if est == "MLR" and fiml_res.vcov_robust is not None \
                else fiml_res.vcov
            result = SEMResult(model=model, engine=engine, solution=solution, vcov=vcov,
                               group_labels=labels, group=group, estimator=est, missing=missing,
                               options=options, fiml=fiml_res, n_dropped=dropped)
        elif est == "MLR":
            from surveykit.sem.robust import mlr
            rob = mlr(result.moments(), arrays, df=df)
            result = SEMResult(model=model, engine=engine, solution=solution, vcov=rob.vcov,
                               group_labels=labels, group=group, estimator=est, missing=missing,
                               options=options, robust=rob, n_dropped=dropped)
        if bootstrap:
            from surveykit.sem.bootstrap import StandardizedAll, bootstrap_engine
            names = [f"theta{k + 1}" for k in range(engine.q)] + [d[0] for d in pt.defined]
            extra = None
            if boot_standardized:
                extra = StandardizedAll()
                tag = (lambda r: f"@{pt.group[r]}") if pt.ngroups > 1 else (lambda r: "")
                names += [f"std_all:{pt.lhs[r]}{pt.op[r]}{pt.rhs[r]}{tag(r)}"
                          for r in range(pt.nrow)]
                names += [f"std_all:{d[0]}" for d in pt.defined]
            boot = bootstrap_engine(engine, solution.theta, n_boot=int(bootstrap), seed=seed,
                                    n_jobs=n_jobs, names=names, extra=extra, progress=progress,
                                    jackknife=boot_ci == "bca")
            result = SEMResult(model=model, engine=engine, solution=solution, vcov=result.vcov,
                               group_labels=labels, group=group, estimator=est, missing=missing,
                               options=options, robust=result.robust, fiml=result.fiml,
                               bootstrap=boot, n_dropped=dropped)
    _check_solution(result, _caller_level() + 1)
    return result


def cfa(model: str, data, **kwargs):
    """Fit a confirmatory factor analysis, as lavaan's ``cfa()``.

    lavaan's ``cfa()`` and ``sem()`` share their defaults (first loading fixed
    to 1, exogenous factors correlated, residual variances free), so this is
    :func:`sem` under the name users expect; see there for the parameters.

    Examples
    --------
    >>> fit = surveykit.cfa("visual =~ x1 + x2 + x3", hs)   # doctest: +SKIP

    In R: ``lavaan::cfa("visual =~ x1 + x2 + x3", data = hs)``.
    """
    return sem(model, data, **kwargs)


def _caller_level() -> int:
    """``stacklevel`` that points a warning at the user's call of sem() or cfa()."""
    import inspect
    frame, level = inspect.currentframe(), 0
    while frame is not None and frame.f_globals.get("__name__") in (__name__, "surveykit.sem"):
        frame, level = frame.f_back, level + 1
    return level


def _check_solution(result, stacklevel: int = 2) -> None:
    eng = result.engine
    pt = eng.pt
    x = eng.x_of(result.theta)
    p = eng.model.p
    pos = {v: k for k, v in enumerate(pt.ov_names + pt.lv_names)}
    neg = sorted({pt.lhs[i] for i in range(pt.nrow)
                  if pt.op[i] == "~~" and pt.lhs[i] == pt.rhs[i] and x[i] < 0})
    if neg:
        warnings.warn(f"some estimated variances are negative ({', '.join(neg)}): a Heywood case.",
                      HeywoodCaseWarning, stacklevel=stacklevel)
    big = []
    for g in range(pt.ngroups):
        C = eng.model.implied(x, g)[3]
        with np.errstate(invalid="ignore"):
            sd = np.sqrt(np.diag(C))
        for i in np.flatnonzero(pt.group == g + 1):
            if pt.op[i] == "=~":
                std = x[i] * sd[pos[pt.lhs[i]]] / sd[pos[pt.rhs[i]]]
                if abs(std) > 1:
                    big.append(f"{pt.lhs[i]}=~{pt.rhs[i]}")
        L = C[p:, p:]
        if L.size and np.linalg.eigvalsh(L).min() <= 0:
            where = f" in group {result.group_labels[g]!r}" if result.group_labels else ""
            warnings.warn(f"the covariance matrix of the latent variables{where} is not "
                          f"positive definite.", NotPositiveDefiniteWarning, stacklevel=stacklevel)
    if big:
        warnings.warn(f"some standardized loadings exceed 1 in absolute value ({', '.join(big)}).",
                      HeywoodCaseWarning, stacklevel=stacklevel)


def lrt(a, b, *, method: str = "default"):
    """Chi-square difference test of two nested models (lavaan's ``lavTestLRT``).

    Parameters
    ----------
    a, b : SEMResult
        Two fits of nested models on the same data, in either order.
    method : {"default", "standard", "satorra.bentler.2001", "satorra.bentler.2010"}
        ``"default"``: the plain difference for ML, the Satorra-Bentler (2001)
        scaled difference (:func:`surveykit.sem.robust.lrt_scaled`) when both
        fits used MLR; ``"standard"`` forces the plain difference; the
        ``satorra.bentler`` methods choose the scaled difference (2010: the
        scaling factor of the less restricted model evaluated at the
        restricted estimates, never negative).

    Returns
    -------
    LRTest
        Prints ``H0 / Statistic / P-value / Distributed``.

    Notes
    -----
    ``T = T_restricted - T_free`` on ``df_restricted - df_free`` degrees of freedom.

    Examples
    --------
    >>> surveykit.lrt(configural, metric)   # doctest: +SKIP

    In R: ``lavaan::lavTestLRT(configural, metric)``.
    """
    from scipy.stats import chi2

    from surveykit.sem.results import LRTest

    if a.fit["df"] > b.fit["df"]:
        a, b = b, a
    if a.fit["n"] != b.fit["n"]:
        raise SurveykitError(f"the models were fitted on different numbers of cases "
                             f"({int(a.fit['n'])} and {int(b.fit['n'])}).")
    ddf = int(round(b.fit["df"] - a.fit["df"]))
    if ddf <= 0:
        raise SurveykitError("the models have the same degrees of freedom: they are not nested.")
    methods = ("default", "standard", "satorra.bentler.2001", "satorra.bentler.2010")
    if method not in methods:
        raise SurveykitError(f"method ({method!r}) must be one of {', '.join(methods)}.")
    scaled = a.robust is not None and b.robust is not None and method != "standard"
    if method.startswith("satorra") and not scaled:
        raise SurveykitError(f"method {method!r} needs two fits with estimator='MLR'.")
    if scaled:
        from surveykit.sem.robust import lrt_scaled
        return lrt_scaled(a, b, method="satorra.bentler.2001" if method == "default" else method)
    T = b.fit["chisq"] - a.fit["chisq"]
    return LRTest(statistic=float(T), df=ddf, pvalue=float(chi2.sf(T, ddf)),
                  chisq=(a.fit["chisq"], b.fit["chisq"]), dfs=(int(a.fit["df"]), int(b.fit["df"])))
