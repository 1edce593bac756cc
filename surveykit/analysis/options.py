"""Options of the GUM analysis and the documented cut-offs it applies."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Latent model only when N >= MIN_N_PER_PARAMETER * q and N >= MIN_N (q = free parameters);
# below CAUTION_N_PER_PARAMETER * q the estimates carry a stability caveat (Kline 2016 ch. 9:
# N:q of 20:1 ideal, 10:1 common, 5:1 doubtful).  Below the minimum surveykit falls back to the
# composite path analysis and says so.
MIN_N = 100
MIN_N_PER_PARAMETER = 2.0
CAUTION_N_PER_PARAMETER = 5.0

# Invariance decisions (Chen 2007; Cheung & Rensvold 2002): a step holds when CFI drops by
# less than 0.010 and RMSEA rises by less than 0.015; the (scaled) chi-square difference test
# is reported beside them but not used alone, as it rejects trivial differences in large samples.
DELTA_CFI = -0.010
DELTA_RMSEA = 0.015


@dataclass(frozen=True)
class AnalysisOptions:
    """Everything that decides the numbers of an analysis; recorded in the manifest.

    Parameters
    ----------
    estimator : {"MLR", "ML"}
        Estimator of the CFA and structural model. MLR (robust SEs, scaled χ²)
        by default since Likert answers are not normal.
    missing : {"listwise", "ml"}
        Missing answers in the latent models: drop incomplete firms, or FIML.
    bootstrap : int
        Bootstrap draws for indirect effects (latent and composite); 0 for none.
    seed : int
        Seed of every random step (bootstrap, parallel analysis).
    include_flagged : bool
        Analyse rows flagged with warnings (careless responding, duplicates);
        rows with errors are quarantined and never analysed.
    alpha : float
        Significance level of tests and intervals (1 - confidence level).
    efa_method, efa_rotation : str
        EFA extraction and rotation of the construct-structure check.
    parallel_iterations : int
        Simulated data sets of the parallel analysis.
    partial_invariance : bool
        Free constraints one at a time (largest score test first) when an invariance step fails.
    max_freed : int
        At most this many constraints freed per failing step.
    groups : tuple of str
        Clusters to analyse (questionnaire ids); empty for every one in the store.
    pooled : bool
        Also analyse all clusters pooled.
    workers : int
        Processes for the bootstrap, 0 for one per CPU (results do not depend on it).
    """

    estimator: str = "MLR"
    missing: str = "listwise"
    bootstrap: int = 2000
    seed: int = 2010
    include_flagged: bool = True
    alpha: float = 0.05
    efa_method: str = "minres"
    efa_rotation: str = "oblimin"
    parallel_iterations: int = 20
    partial_invariance: bool = True
    max_freed: int = 10
    groups: tuple[str, ...] = ()
    pooled: bool = True
    workers: int = 0
    cutoffs: dict[str, float] = field(default_factory=lambda: {
        "delta_cfi": DELTA_CFI, "delta_rmsea": DELTA_RMSEA, "min_n": MIN_N,
        "min_n_per_parameter": MIN_N_PER_PARAMETER,
        "caution_n_per_parameter": CAUTION_N_PER_PARAMETER})

    def to_dict(self) -> dict:
        out = asdict(self)
        out["groups"] = list(self.groups)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> AnalysisOptions:
        data = dict(data)
        data["groups"] = tuple(data.get("groups", ()))
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})
