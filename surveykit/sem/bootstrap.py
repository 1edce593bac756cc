"""Nonparametric bootstrap of SEM estimates: draws, percentile, BC and BCa intervals.

Cases are resampled with replacement within each group, the model is refitted
to every resample, and any statistic of the refit (free parameters, defined
effects, standardized values) is collected from the same draw.

Every refit starts at the full-sample estimate.  Models with 60 or more free
parameters are refitted by BFGS with the full-sample expected information as
the initial Hessian approximation, inverted once in the calling process and
shipped to the workers (:class:`~surveykit.sem.estimate.RefitSolver`: one
gradient per iteration, about 20 per draw for the 122-parameter GUM model);
smaller models, and draws where BFGS does not settle, use
:meth:`~surveykit.sem.estimate.MLEngine.fit` (Fisher scoring, then Newton
steps).  The two agree to about 2e-8 (see ``RefitSolver.fit``).

Reproducibility does not depend on the number of workers: the row indices of
every draw are generated up front in the parent process from
``numpy.random.default_rng(seed)``, one group after another, and workers only
refit the resamples they are handed, and every process, the calling one
included, runs BLAS single-threaded.  Workers are separate processes started
with BLAS limited to one thread each (``OMP_NUM_THREADS`` and friends are set
before the worker, or the fork server it comes from, imports numpy); the
calling process refits too, taking chunks from the back while the workers
start and handing chunks to a worker
only once it is up, so start-up costs no idle time.

References
----------
Efron, B. & Tibshirani, R. J. (1993). *An introduction to the bootstrap*,
ch. 13-14 (percentile, BC and BCa intervals).

Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap methods and their
application*, §5.3 (the interpolated order statistics used by R's ``boot`` and
by lavaan's ``parameterEstimates(boot.ci.type = "perc")``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = [
    "StandardizedAll",
    "EngineRefit",
    "bootstrap_engine",
    "draw_indices",
    "bootstrap_draws",
    "BootstrapResult",
    "percentile_interval",
    "bc_interval",
    "bca_interval",
    "jackknife_acceleration",
]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

Statistic = Callable[[list[np.ndarray]], np.ndarray]
_BFGS_MIN_PARAMS = 60
Progress = Callable[[int, int], None]


def draw_indices(n_per_group: Sequence[int], n_boot: int,
                 seed: int | np.random.SeedSequence | None) -> list[np.ndarray]:
    """Row indices of every bootstrap draw: one ``(n_boot, n_g)`` integer array per group.

    Drawn in the calling process from ``numpy.random.default_rng(seed)`` so
    that a seed fixes the resamples whatever the number of workers.
    """
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, size=(n_boot, n)) for n in n_per_group]


# ----------------------------------------------------------------- workers ----

_WORKER: dict = {}


def _init_worker(statistic: Statistic, data: list[np.ndarray]) -> None:
    _WORKER["statistic"] = statistic
    _WORKER["data"] = data


def _ready() -> bool:
    return True


_PRELOAD = ["numpy", "scipy.linalg", "surveykit.sem.estimate", "surveykit.sem.bootstrap"]


def _worker_context(mp):
    """Start method for the workers: a fork server where available, else spawn.

    Both start fresh interpreters that import numpy only after the BLAS
    thread variables are set.  The fork server is started once per process
    (with those variables and numpy, scipy and the estimator preloaded) and
    forks workers from there, so later bootstraps start workers in
    milliseconds instead of paying an interpreter start and the imports.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return mp.get_context("spawn")


def _run_chunk(start: int, idx: list[np.ndarray]) -> tuple[int, np.ndarray]:
    statistic, data = _WORKER["statistic"], _WORKER["data"]
    return start, _evaluate(statistic, data, idx)


def _evaluate(statistic: Statistic, data: list[np.ndarray], idx: list[np.ndarray],
              progress: Callable[[int], None] | None = None) -> np.ndarray:
    rows = []
    for b in range(idx[0].shape[0]):
        sample = [X[i[b]] for X, i in zip(data, idx, strict=True)]
        try:
            value = np.asarray(statistic(sample), dtype=float)
        except Exception:  # a failed refit is a missing draw, as in lavaan
            value = None
        rows.append(value)
        if progress is not None:
            progress(1)
    width = max((r.size for r in rows if r is not None), default=0)
    out = np.full((len(rows), width), np.nan)
    for b, r in enumerate(rows):
        if r is not None and r.size == width:
            out[b] = r
    return out


def bootstrap_draws(statistic: Statistic, data: Sequence[np.ndarray], *, n_boot: int = 1000,
                    seed: int | None = None, n_jobs: int = 1,
                    indices: Sequence[np.ndarray] | None = None,
                    progress: Progress | None = None, chunk_size: int | None = None
                    ) -> np.ndarray:
    """Evaluate ``statistic`` on ``n_boot`` resamples of ``data``.

    Parameters
    ----------
    statistic : callable
        Takes the list of resampled group arrays and returns a 1-d array; it
        must be picklable (a module-level function or an instance of a
        module-level class) when ``n_jobs > 1``.  An exception marks the draw
        as failed (a row of ``NaN``).
    data : sequence of ndarray
        Casewise data per group.
    n_boot : int
        Number of draws (ignored when ``indices`` is given).
    seed : int, optional
        Seed of :func:`draw_indices`.
    n_jobs : int
        Processes refitting, this one included (``n_jobs - 1`` workers are
        started); ``1`` runs in this process only, ``-1`` uses every core.
    indices : sequence of ndarray, optional
        Explicit 0-based row indices per group, ``(n_boot, n_g)`` each, e.g. to
        replay the resamples of another program.
    progress : callable, optional
        Called as ``progress(done, total)`` after each draw (in-process) or
        each finished chunk of draws (with workers), from the calling thread.

    Returns
    -------
    ndarray
        ``(n_boot, k)`` draws, failed draws as rows of ``NaN``.

    Examples
    --------
    A progress bar with rich (what the CLI does)::

        from rich.progress import Progress
        with Progress() as bar:
            task = bar.add_task("bootstrap", total=1000)
            draws = bootstrap_draws(stat, data, n_boot=1000, seed=1, n_jobs=2,
                                    progress=lambda done, total: bar.update(task, completed=done))

    In R: ``bootstrapLavaan(fit, R = 1000, FUN = coef)``.
    """
    data = [np.asarray(X) for X in data]
    if indices is None:
        indices = draw_indices([X.shape[0] for X in data], n_boot, seed)
    indices = [np.asarray(i, dtype=np.intp) for i in indices]
    total = indices[0].shape[0]
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    n_jobs = max(1, min(int(n_jobs), total))
    if n_jobs == 1:
        done = [0]

        def tick(k: int) -> None:
            done[0] += k
            if progress is not None:
                progress(done[0], total)

        return _evaluate(statistic, data, indices, tick)

    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    size = chunk_size or max(1, min(25, -(-total // (8 * n_jobs))))
    chunks = [(s, [i[s:s + size] for i in indices]) for s in range(0, total, size)]
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    for k in _THREAD_VARS:
        os.environ[k] = "1"  # inherited by the workers before they import numpy
    parts: dict[int, np.ndarray] = {}
    done = 0

    def record(s: int, values: np.ndarray) -> None:
        nonlocal done
        parts[s] = values
        done += values.shape[0]
        if progress is not None:
            progress(done, total)

    n_workers = n_jobs - 1
    pool = None
    try:
        ctx = _worker_context(mp)
        # n_jobs - 1 worker processes plus this one.  This process refits chunks
        # from the back while the workers start; a worker gets a chunk from the
        # front only once it is up (its readiness probe has returned), and then
        # keeps one chunk queued behind the one it refits (handed out between
        # this process's own chunks, so a worker never idles waiting for it);
        # no chunk waits on a starting worker and at most one is stuck behind a
        # slow worker at the end.
        pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx,
                                   initializer=_init_worker, initargs=(statistic, data))
        probes = {pool.submit(_ready) for _ in range(n_workers)}
        running: dict = {}
        ready = 0
        front, back = 0, len(chunks) - 1
        while front <= back or running:
            for fut in [f for f in probes if f.done()]:
                probes.discard(fut)
                ready += 1
            for fut in [f for f in running if f.done()]:
                record(*fut.result())
                del running[fut]
            while len(running) < 2 * ready and front <= back:
                s, idx = chunks[front]
                running[pool.submit(_run_chunk, s, idx)] = s
                front += 1
            if front <= back:
                s, idx = chunks[back]
                back -= 1
                record(s, _evaluate(statistic, data, idx))
            elif running:
                wait(running, return_when=FIRST_COMPLETED)
    finally:
        if pool is not None:
            # results are in: do not wait for the workers to exit
            pool.shutdown(wait=False, cancel_futures=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    width = max(p.shape[1] for p in parts.values())
    out = np.full((total, width), np.nan)
    for s, values in parts.items():
        if values.shape[1] == width:
            out[s:s + values.shape[0]] = values
    return out


# --------------------------------------------------------------- intervals ----

def _norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Interpolated order statistics on the normal scale (R ``boot:::norm.inter``)."""
    from scipy.special import ndtri  # the normal quantile, without scipy.stats' overhead

    t = np.sort(t[np.isfinite(t)])
    R = t.size
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    rk = (R + 1) * alpha
    k = np.trunc(rk).astype(int)
    out = np.empty(alpha.size)
    for i in range(alpha.size):
        if k[i] == rk[i]:
            out[i] = t[k[i] - 1] if 0 < k[i] <= R else (t[0] if k[i] <= 0 else t[-1])
        elif k[i] <= 0:
            out[i] = t[0]
        elif k[i] >= R:
            out[i] = t[-1]
        else:
            z, z1, z2 = ndtri(alpha[i]), ndtri(k[i] / (R + 1)), ndtri((k[i] + 1) / (R + 1))
            out[i] = t[k[i] - 1] + (z - z1) / (z2 - z1) * (t[k[i]] - t[k[i] - 1])
    return out


def _norm_inter_columns(T: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """:func:`_norm_inter` for every column of the sorted ``T`` (``alpha``: one row per column)."""
    from scipy.special import ndtri

    R = T.shape[0]
    cols = np.arange(T.shape[1])[:, None]
    rk = (R + 1) * alpha
    with np.errstate(invalid="ignore"):  # NaN levels (no spread): replaced by the caller
        kk = np.trunc(rk).astype(int)
    t_lo = T[np.clip(kk - 1, 0, R - 1), cols]
    t_hi = T[np.clip(kk, 0, R - 1), cols]
    first, last = T[0][:, None], T[-1][:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        z, z1, z2 = ndtri(alpha), ndtri(kk / (R + 1)), ndtri((kk + 1) / (R + 1))
        inter = t_lo + (z - z1) / (z2 - z1) * (t_hi - t_lo)
    exact = np.where((kk > 0) & (kk <= R), t_lo, np.where(kk <= 0, first, last))
    return np.where(kk == rk, exact, np.where(kk <= 0, first, np.where(kk >= R, last, inter)))


def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval with the order statistics interpolated as lavaan and ``boot`` do.

    Notes
    -----
    With ``R`` finite draws sorted as ``t_(1) <= ... <= t_(R)`` the endpoint for
    ``alpha`` is ``t_(k)`` when ``k = (R + 1) alpha`` is an integer, otherwise
    the interpolation between ``t_(k)`` and ``t_(k+1)`` that is linear in
    ``Phi^{-1}(k / (R + 1))``.

    Examples
    --------
    In R: ``parameterEstimates(fit, boot.ci.type = "perc")``.
    """
    a = (1 - level) / 2
    lo, hi = _norm_inter(np.asarray(draws, dtype=float), np.array([a, 1 - a]))
    return float(lo), float(hi)


def bca_interval(draws: np.ndarray, estimate: float, acceleration: float,
                 level: float = 0.95) -> tuple[float, float]:
    """Bias-corrected and accelerated interval (Efron 1987).

    Notes
    -----
    ``w = Phi^{-1}(#{t* < t0} / R)`` and the endpoints are the percentile
    endpoints at ``Phi(w + (w + z_a) / (1 - a (w + z_a)))``, ``a`` the
    acceleration (:func:`jackknife_acceleration`).
    """
    from scipy.special import ndtr, ndtri  # normal cdf and quantile

    t = np.asarray(draws, dtype=float)
    t = t[np.isfinite(t)]
    if t.size < 2 or np.var(t) == 0:
        return float(estimate), float(estimate)
    a_lvl = (1 - level) / 2
    z = ndtri(np.array([a_lvl, 1 - a_lvl]))
    w = ndtri(np.sum(t < estimate) / t.size)
    adj = ndtr(w + (w + z) / (1 - acceleration * (w + z)))
    lo, hi = _norm_inter(t, adj)
    return float(lo), float(hi)


def bc_interval(draws: np.ndarray, estimate: float, level: float = 0.95) -> tuple[float, float]:
    """Bias-corrected percentile interval (BCa without acceleration).

    This is lavaan's ``boot.ci.type = "bca.simple"``.
    """
    return bca_interval(draws, estimate, 0.0, level)


def jackknife_acceleration(jack: np.ndarray) -> np.ndarray:
    """Acceleration of BCa from leave-one-out estimates (rows = left-out cases).

    Notes
    -----
    ``a = sum (m - t_(i))^3 / (6 [sum (m - t_(i))^2]^{3/2})`` with ``m`` the mean
    of the leave-one-out values (Efron & Tibshirani 1993, eq. 14.15).
    """
    jack = np.asarray(jack, dtype=float)
    d = np.nanmean(jack, axis=0) - jack
    num = np.nansum(d ** 3, axis=0)
    den = 6 * np.nansum(d ** 2, axis=0) ** 1.5
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap draws of named statistics with their percentile, BC and BCa intervals."""

    names: list[str]
    estimate: np.ndarray
    draws: np.ndarray
    seed: int | None = None
    jackknife: np.ndarray | None = field(default=None, repr=False)

    @cached_property
    def n_failed(self) -> int:
        """Number of draws whose refit failed (excluded from every interval)."""
        return int(np.sum(~np.isfinite(self.draws).all(axis=1)))

    @cached_property
    def se(self) -> np.ndarray:
        """Bootstrap standard errors (standard deviation of the draws, ``R - 1`` divisor)."""
        ok = np.isfinite(self.draws).all(axis=1)
        return self.draws[ok].std(axis=0, ddof=1)

    @cached_property
    def acceleration(self) -> np.ndarray:
        """BCa acceleration per statistic (zero without jackknife values)."""
        if self.jackknife is None:
            return np.zeros(len(self.names))
        return jackknife_acceleration(self.jackknife)

    @cached_property
    def _sorted(self) -> np.ndarray:
        """The successful draws, each column sorted."""
        ok = np.isfinite(self.draws).all(axis=1)
        return np.sort(self.draws[ok], axis=0)

    def ci(self, kind: str = "perc", level: float = 0.95) -> np.ndarray:
        """``(k, 2)`` intervals: ``kind`` is ``"perc"``, ``"bc"`` (lavaan's ``"bca.simple"``) or ``"bca"``.

        All statistics at once, with the same values as :func:`percentile_interval`,
        :func:`bc_interval` and :func:`bca_interval` column by column.
        """
        from scipy.special import ndtr, ndtri

        if kind not in ("perc", "bc", "bca.simple", "bca"):
            raise ValueError(f"kind ({kind!r}) must be one of 'perc', 'bc', 'bca'.")
        T = self._sorted
        R, k = T.shape
        if R == 0:
            return np.full((k, 2), np.nan)
        a = (1 - level) / 2
        if kind == "perc":
            return _norm_inter_columns(T, np.tile([a, 1 - a], (k, 1)))
        acc = self.acceleration if kind == "bca" else np.zeros(k)
        est = np.asarray(self.estimate, dtype=float)
        z = ndtri(np.array([a, 1 - a]))
        with np.errstate(invalid="ignore", divide="ignore"):  # an estimate beyond every draw
            w = ndtri(np.sum(T < est, axis=0) / R)
            wz = w[:, None] + z[None, :]
            adj = ndtr(w[:, None] + wz / (1 - acc[:, None] * wz))
        out = _norm_inter_columns(T, adj)
        flat = (R < 2) | (np.var(T, axis=0) == 0)
        out[flat] = est[flat, None]
        return out

    def table(self, level: float = 0.95):
        """DataFrame with the estimate, bootstrap SE and the three intervals per statistic."""
        import pandas as pd

        perc, bc, bca = self.ci("perc", level), self.ci("bc", level), self.ci("bca", level)
        return pd.DataFrame({
            "name": self.names, "est": self.estimate, "se": self.se,
            "perc_lower": perc[:, 0], "perc_upper": perc[:, 1],
            "bc_lower": bc[:, 0], "bc_upper": bc[:, 1],
            "bca_lower": bca[:, 0], "bca_upper": bca[:, 1],
        })

    def summary(self) -> str:
        """Plain-text table of estimates, SEs and intervals."""
        t = self.table()
        lines = [f"Bootstrap: {self.draws.shape[0]} draws ({self.n_failed} failed), seed {self.seed}",
                 f"{'':24s}{'est':>9s}{'se':>9s}{'perc.lo':>9s}{'perc.up':>9s}{'bca.lo':>9s}{'bca.up':>9s}"]
        for r in t.itertuples():
            lines.append(f"{r.name:24.24s}{r.est:9.3f}{r.se:9.3f}{r.perc_lower:9.3f}"
                         f"{r.perc_upper:9.3f}{r.bca_lower:9.3f}{r.bca_upper:9.3f}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table().to_html(index=False, float_format=lambda v: f"{v:.3f}")


# ------------------------------------------------------ core engine adapter ----

class EngineRefit:
    """Bootstrap statistic: refit an ML engine to a resample, starting at ``theta``.

    Returns the free parameters followed by the ``:=`` defined parameters;
    ``extra(engine, theta)``, a picklable callable, may append more values
    (e.g. standardized estimates) computed from the same refit.  Sent to a
    worker process it travels without its engine (engines hold compiled
    expressions, which do not pickle) and is rebuilt there from the parameter table.
    """

    def __init__(self, engine, theta: np.ndarray, extra: Callable | None = None):
        from surveykit.sem.estimate import RefitSolver

        self.engine = engine
        self.partable = engine.pt
        self.theta = np.asarray(theta, dtype=float)
        self.extra = extra
        # BFGS refits (RefitSolver) for large models, where a Hessian costs more
        # than a dozen gradients (GUM model, 122 parameters, Ningbo example: 2.0 vs
        # 4.1 ms CPU per draw); Fisher scoring and Newton steps for small ones
        # (PoliticalDemocracy, 31 parameters: 1.0 vs 1.2 ms).  The rule depends on
        # the model only, so the draws are reproducible.
        self.solver = RefitSolver(engine, self.theta) if engine.q >= _BFGS_MIN_PARAMS else None
        # computed here, once, and shipped to the workers: every process refits
        # with the same initial matrix, so draws do not depend on n_jobs
        self._H0inv = self.solver.H0inv if self.solver is not None and self.solver.usable else None

    def __getstate__(self):
        # engines hold compiled := / == expressions, which do not pickle: a
        # worker receives the parameter table and rebuilds the engine once
        state = dict(self.__dict__)
        state["engine"] = None
        state["solver"] = None
        return state

    def __call__(self, groups: list[np.ndarray]) -> np.ndarray:
        import warnings

        from surveykit.sem.estimate import MLEngine, RefitSolver, sample_stats

        with warnings.catch_warnings():
            # resamples are often awkward (Heywood cases, near-singular S); lavaan
            # keeps such draws and so do we, only failed refits are dropped
            warnings.simplefilter("ignore")
            if self.engine is None:
                self.engine = MLEngine(self.partable, sample_stats(groups))
            theta = None
            if self._H0inv is not None:
                if self.solver is None:
                    self.solver = RefitSolver(self.engine, self.theta, self._H0inv)
                theta = self.solver.fit(groups)
            eng = None
            if theta is None:  # the fast path did not settle: the full optimiser
                eng = self.engine.with_stats(sample_stats(groups))
                sol = eng.fit(start=self.theta)
                if not sol.converged:
                    raise RuntimeError("refit did not converge")
                theta = sol.theta
            parts = [theta, np.atleast_1d(self.engine.defined(theta))]
            if self.extra is not None:
                if eng is None:
                    # std.all values depend on the model-implied moments only (the
                    # fast path excludes fixed covariates, whose moments are the
                    # sample's): no need for the resample's statistics then
                    eng = self.engine if isinstance(self.extra, StandardizedAll) \
                        else self.engine.with_stats(sample_stats(groups))
                parts.append(np.atleast_1d(self.extra(eng, theta)))
        return np.concatenate(parts)


class StandardizedAll:
    """``extra`` statistic for :func:`bootstrap_engine`: the std.all value of every row.

    Returns lavaan's ``std.all`` of every parameter-table row of the refit,
    then of every ``:=`` parameter (evaluated at the standardized values), so
    standardized estimates get their intervals from the same draws.
    """

    def __call__(self, engine, theta: np.ndarray) -> np.ndarray:
        from surveykit.sem.standardize import standardize

        std = standardize(engine, theta, kind="all")
        if not engine.pt.defined:
            return std
        return np.concatenate([std, np.atleast_1d(engine.defined_values(std))])


def bootstrap_engine(engine, theta: np.ndarray, *, n_boot: int = 1000, seed: int | None = None,
                     n_jobs: int = 1, progress: Progress | None = None,
                     indices: Sequence[np.ndarray] | None = None,
                     extra: Callable | None = None, names: Sequence[str] | None = None,
                     jackknife: bool = True) -> BootstrapResult:
    """Nonparametric bootstrap of an ML solution of :class:`~surveykit.sem.estimate.MLEngine`.

    Parameters
    ----------
    engine : MLEngine
        The fitted engine (its ``stats.data`` are resampled within groups).
    theta : ndarray
        The estimate; every refit starts there.
    n_boot, seed, n_jobs, progress, indices
        As in :func:`bootstrap_draws`.
    extra : callable, optional
        ``extra(engine, theta) -> array`` of further statistics per draw.
    jackknife : bool
        Also refit with each case left out, for the BCa acceleration.

    Returns
    -------
    BootstrapResult
        Draws of the free parameters, then the defined parameters, then ``extra``.

    Examples
    --------
    In R: ``set.seed(1); fit <- sem(model, data, se = "bootstrap", bootstrap = 1000)``;
    ``parameterEstimates(fit, boot.ci.type = "perc")``.
    """
    from surveykit.sem.estimate import blas_single_thread

    with blas_single_thread():
        # one BLAS thread here as in the workers: the matrices are small, and
        # every process then computes the same bits for the same resample
        return _bootstrap_engine(engine, theta, n_boot=n_boot, seed=seed, n_jobs=n_jobs,
                                 progress=progress, indices=indices, extra=extra, names=names,
                                 jackknife=jackknife)


def _bootstrap_engine(engine, theta, *, n_boot, seed, n_jobs, progress, indices, extra, names,
                      jackknife) -> BootstrapResult:
    data = [np.asarray(X, dtype=float) for X in engine.stats.data]
    stat = EngineRefit(engine, theta, extra)
    est = stat(data)
    draws = bootstrap_draws(stat, data, n_boot=n_boot, seed=seed, n_jobs=n_jobs,
                            indices=indices, progress=progress)
    jack = None
    if jackknife:
        rows = []
        for g, X in enumerate(data):
            for i in range(X.shape[0]):
                sample = [np.delete(Y, i, axis=0) if h == g else Y for h, Y in enumerate(data)]
                try:
                    rows.append(stat(sample))
                except Exception:
                    rows.append(np.full(est.size, np.nan))
        jack = np.vstack(rows) if rows else None
    if names is None:
        names = [f"theta[{i}]" for i in range(est.size)]
    return BootstrapResult(list(names), est, draws, seed=seed, jackknife=jack)
