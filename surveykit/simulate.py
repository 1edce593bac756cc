"""Simulated survey data drawn from a documented generating model.

Every number this module produces is **simulated**: it is labelled so in the
workbooks it writes, in the truth table and in the generating-model JSON.

Generating model
----------------
The structure comes from a model in lavaan syntax (``=~`` for measurement,
``~`` for paths, ``~~`` among latent variables for residual covariances);
the values are ours and are written to ``generating_model.json``:

1. Exogenous latent variables ξ ~ N(0, Φ) with unit variances and
   correlations ``exo_cor``.
2. Endogenous latent variables η = Bη + Γξ + ζ with the path coefficients in
   ``paths`` (standardized metric) and residual correlations ``res_cor`` for
   every ``~~`` pair; residual variances are solved so that every latent
   variable has variance one.
3. Indicators y* = λ·η + ε with standardized loadings λ drawn once per item
   from U(0.65, 0.85), Var(ε) = 1 − λ²; reverse-keyed items have −λ, so they
   are answered in the reverse direction.
4. Answers 1…K by thresholding y* at τ_k = Φ⁻¹(p_k) + δ_item, where p is the
   cumulative share of the categories (default a mild agreement skew) and
   δ_item ~ U(−0.15, 0.15).

λ and δ depend only on the item id and ``measurement_seed``, so clusters
simulated with different seeds and paths still share one measurement model,
as the GUM model's claim (one mechanism, different path strengths) has it.

Profile items (year founded, employees, ownership, export share, …) are drawn
from simple distributions tied to the latent scores where it is natural (the
export share rises with GVC insertion).  Field noise (``mess``) only rewrites
answers in ways an import can read back exactly — labels instead of codes,
full-width digits, "4.0", "4分", ticks in the form's boxes — or blanks them
(recorded as missing in the truth table).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surveykit.codebook.model import Codebook
from surveykit.errors import SurveykitError

DEFAULT_LOADING_RANGE = (0.65, 0.85)
DEFAULT_CUMULATIVE = (0.05, 0.17, 0.42, 0.78)  # P(answer <= k), k = 1..4 of a 5-point scale
DEFAULT_EXO_COR = 0.30
DEFAULT_RES_COR = 0.20
DEFAULT_PATH = 0.30
# share of noisy answers that are left blank: rating items rarely, profile figures more often
BLANK_SHARE_LIKERT = 0.01
BLANK_SHARE_PROFILE = 0.20
# firm-id prefixes of the shipped questionnaires (never a declared missing code such as "NA")
_ID_PREFIX = {"ningbo_apparel": "NB", "yongkang_hardware": "YK"}
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

SIMULATED_README = """# SIMULATED DATA — {title_en}

模拟数据：本文件夹中的所有答案均由 `surveykit simulate` 按已知生成模型随机生成，不是真实调查数据，
也不是王传宝（2010）书中的数据。

Every answer in this folder was drawn by `surveykit simulate` from a known generating model. These
are **not** real survey responses and **not** the data of Wang Chuanbao (2010).

- questionnaire: `{codebook}` (version {version})
- firms: {n}; seed: {seed}; field noise rate (`--mess`): {mess}
- `{wide}`: all firms in the wide template (one row per firm)
- `forms/`: the same firms, one form-layout workbook each
- `truth.csv`: the intended coded answers (blank = missing), for checking an import cell for cell
- `generating_model.json`: the true loadings, thresholds, path coefficients and residual variances
- planted paths (standardized): {planted}

Recreate with:

    {command}
"""


@dataclass(frozen=True)
class SimulatedSurvey:
    """Simulated firms: clean truth, the noisy answers as written, and the generating model."""

    codebook: Codebook
    truth: Any  # pandas.DataFrame, one row per firm, coded values (NaN = missing)
    records: list[dict[str, Any]]  # answers as they appear in a workbook (noise included)
    ticks: list[dict[str, int]]  # per firm: Likert items answered by ticking a box (form layout)
    generating_model: dict[str, Any] = field(repr=False)
    latent_scores: Any = field(repr=False, default=None)  # pandas.DataFrame of true η and ξ

    def write_wide(self, path: str | Path) -> Path:
        """Write all firms as one wide-layout workbook (labelled simulated)."""
        from surveykit.codebook.template import _save, build_workbook

        wb = build_workbook(self.codebook, layout="wide", lang="both", records=self.records,
                            rows=len(self.records), simulated=True)
        return _save(wb, path)

    def write_forms(self, folder: str | Path) -> list[Path]:
        """Write one form-layout workbook per firm into ``folder`` (labelled simulated)."""
        from surveykit.codebook.template import _save, build_workbook

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        rid = self.codebook.respondent_id
        for rec, tick in zip(self.records, self.ticks, strict=True):
            answers = {k: v for k, v in rec.items() if k not in tick}
            wb = build_workbook(self.codebook, layout="form", lang="both", records=[answers],
                                ticks=tick, simulated=True)
            out.append(_save(wb, folder / f"{rec[rid]}.xlsx"))
        return out

    def write_truth(self, path: str | Path) -> Path:
        """Write the clean coded answers (one row per firm, blank = missing) as CSV.

        A last column ``data_source`` says ``SIMULATED`` on every row.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.truth.assign(data_source="SIMULATED").to_csv(path, index=False, encoding="utf-8")
        return path

    def write_model(self, path: str | Path) -> Path:
        """Write the generating model (true parameters) as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.generating_model, ensure_ascii=False, indent=2), "utf-8")
        return path


def parse_path_overrides(specs: Mapping[str, float] | list[str] | None) -> dict[tuple[str, str], float]:
    """Turn ``{"UP_LINK ~ GVC": 0.6}`` or ``["UP_LINK~GVC=0.6"]`` into ``{("UP_LINK", "GVC"): 0.6}``."""
    out: dict[tuple[str, str], float] = {}
    if not specs:
        return out
    items = specs.items() if isinstance(specs, Mapping) else []
    if not isinstance(specs, Mapping):
        parsed = []
        for spec in specs:
            if "=" not in spec:
                raise SurveykitError(f"path {spec!r} must look like 'UP_LINK~GVC=0.6'")
            left, value = spec.rsplit("=", 1)
            parsed.append((left, value))
        items = parsed
    for left, value in items:
        if "~" not in left:
            raise SurveykitError(f"path {left!r} must look like 'UP_LINK ~ GVC'")
        lhs, rhs = (s.strip() for s in left.split("~", 1))
        try:
            out[(lhs, rhs)] = float(value)
        except (TypeError, ValueError):
            raise SurveykitError(f"path {left!r}: coefficient {value!r} is not a number") from None
    return out


def simulate(codebook: Codebook, model: str, n: int, *, seed: int = 0,
             paths: Mapping[tuple[str, str], float] | None = None, mess: float = 0.0,
             exo_cor: float = DEFAULT_EXO_COR, res_cor: float = DEFAULT_RES_COR,
             default_path: float = DEFAULT_PATH, id_prefix: str | None = None,
             measurement_seed: int = 0) -> SimulatedSurvey:
    """Draw ``n`` simulated firms for a questionnaire from a generating model.

    Parameters
    ----------
    codebook : Codebook
        The questionnaire; its Likert items must be the model's indicators.
    model : str
        Model text in lavaan syntax (``=~``, ``~``, ``~~``; ``:=`` is ignored).
    n : int
        Number of firms.
    seed : int
        Seed of the random generator: the same seed gives the same firms.
    paths : mapping, optional
        True standardized path coefficients ``{(lhs, rhs): value}`` for
        ``lhs ~ rhs`` paths; others take ``default_path``.
    mess : float
        Share of answers rewritten with field noise (0 to 1).
    measurement_seed : int
        Seed of the items' loadings and thresholds, drawn per item id: two
        samples of the same questionnaire share their measurement model unless
        given different measurement seeds.

    Returns
    -------
    SimulatedSurvey
    """
    import numpy as np
    import pandas as pd

    from surveykit.sem import parse_model

    if not isinstance(n, int) or n < 1:
        raise SurveykitError(f"n ({n}) must be a positive number of firms")
    if not 0.0 <= mess <= 1.0:
        raise SurveykitError(f"mess ({mess}) must lie between 0 and 1")
    table = parse_model(model)
    rng = np.random.default_rng(seed)
    paths = dict(paths or {})

    loads = table[table["op"] == "=~"]
    latents = list(dict.fromkeys(loads["lhs"]))
    indicators = {lv: list(loads.loc[loads["lhs"] == lv, "rhs"]) for lv in latents}
    regs = table[(table["op"] == "~") & table["lhs"].isin(latents)]
    unknown = set(paths) - set(zip(regs["lhs"], regs["rhs"], strict=True))
    if unknown:
        lhs, rhs = sorted(unknown)[0]
        raise SurveykitError(f"path '{lhs} ~ {rhs}' is not a regression of the model")
    endo = list(dict.fromkeys(regs["lhs"]))
    exo = [lv for lv in latents if lv not in endo]
    for lv, items in indicators.items():
        for iid in items:
            if iid not in codebook.items_by_id or codebook.item(iid).type != "likert":
                raise SurveykitError(f"indicator {iid!r} of {lv} is not a Likert item of "
                                     f"questionnaire {codebook.id!r}")

    order = exo + endo
    idx = {lv: k for k, lv in enumerate(order)}
    m = len(order)
    B = np.zeros((m, m))
    path_values = {}
    for lhs, rhs in zip(regs["lhs"], regs["rhs"], strict=True):
        value = paths.get((lhs, rhs), default_path)
        B[idx[lhs], idx[rhs]] = value
        path_values[f"{lhs} ~ {rhs}"] = value
    R = np.eye(m)  # correlation of exogenous variables and of residuals
    for a in range(len(exo)):
        for b in range(a + 1, len(exo)):
            R[a, b] = R[b, a] = exo_cor
    covs = table[(table["op"] == "~~") & table["lhs"].isin(endo) & table["rhs"].isin(endo)
                 & (table["lhs"] != table["rhs"])]
    for lhs, rhs in zip(covs["lhs"], covs["rhs"], strict=True):
        R[idx[lhs], idx[rhs]] = R[idx[rhs], idx[lhs]] = res_cor
    # residual variances d so that every latent variable has unit variance
    A = np.linalg.inv(np.eye(m) - B)
    d = np.ones(m)
    for _ in range(500):
        Psi = np.sqrt(np.outer(d, d)) * R
        total = np.diag(A @ Psi @ A.T)
        step = 1.0 - total
        d = d + step
        if np.any(d <= 0.02):
            bad = order[int(np.argmin(d))]
            raise SurveykitError(f"the paths into {bad} explain more than all of its variance; "
                                 "lower its path coefficients")
        if np.max(np.abs(step)) < 1e-12:
            break
    Psi = np.sqrt(np.outer(d, d)) * R
    Sigma_eta = A @ Psi @ A.T
    zeta = rng.multivariate_normal(np.zeros(m), Psi, size=n, method="cholesky")
    eta = zeta @ A.T

    rid = codebook.respondent_id
    prefix = id_prefix or _ID_PREFIX.get(codebook.id) or codebook.id[:2].upper()
    truth: dict[str, Any] = {rid: [f"{prefix}{k + 1:04d}" for k in range(n)]}
    load_out, thr_out = {}, {}
    base_tau = _norm_ppf(np.asarray(DEFAULT_CUMULATIVE))
    for lv in latents:
        for iid in indicators[lv]:
            item = codebook.item(iid)
            # the measurement model belongs to the item, not to the sample: every cluster
            # answering the same item shares its loading and thresholds
            item_rng = np.random.default_rng([measurement_seed, zlib.crc32(iid.encode("utf-8"))])
            lam = float(item_rng.uniform(*DEFAULT_LOADING_RANGE))
            shift = float(item_rng.uniform(-0.15, 0.15))
            sign = -1.0 if item.reverse else 1.0
            ystar = sign * lam * eta[:, idx[lv]] + rng.normal(0.0, np.sqrt(1 - lam * lam), n)
            k = item.scale.max - item.scale.min + 1
            tau = _norm_ppf(np.linspace(0, 1, k + 1)[1:-1]) if k != 5 else base_tau.copy()
            tau = tau + shift
            truth[iid] = (item.scale.min + np.searchsorted(tau, ystar)).astype(float)
            load_out[iid] = {"factor": lv, "loading_std": sign * lam, "reverse_keyed": item.reverse}
            thr_out[iid] = tau.tolist()
    scores = pd.DataFrame(eta, columns=order)
    _profile(codebook, truth, scores, rng, n)

    truth_df = pd.DataFrame(truth)
    for item in codebook.items:
        if item.id not in truth_df:
            truth_df[item.id] = np.nan if item.type != "text" else ""
    truth_df = truth_df[[i.id for i in codebook.items]]
    records, ticks = _mess(codebook, truth_df, rng, mess)

    generating = {
        "simulated": True,
        "note": "SIMULATED DATA drawn by surveykit simulate; not real survey responses.",
        "questionnaire": codebook.id, "version": codebook.version,
        "codebook_sha256": codebook.sha256, "n": n, "seed": seed, "mess": mess,
        "model_text": model, "measurement_seed": measurement_seed,
        "latent_order": order, "exogenous": exo, "endogenous": endo,
        "exogenous_correlation": exo_cor, "residual_correlation": res_cor,
        "paths_std": path_values,
        "residual_variances": {lv: float(d[idx[lv]]) for lv in endo},
        "latent_covariance": {a: {b: float(Sigma_eta[idx[a], idx[b]]) for b in order} for a in order},
        "loadings": load_out,
        "thresholds": thr_out,
        "cumulative_shares": list(DEFAULT_CUMULATIVE),
    }
    return SimulatedSurvey(codebook, truth_df, records, ticks, generating, scores)


def _norm_ppf(p):
    from scipy.stats import norm

    return norm.ppf(p)


def _profile(cb: Codebook, truth: dict[str, Any], scores, rng, n: int) -> None:
    """Plausible firm-profile answers; the export share rises with GVC insertion."""
    import numpy as np

    items = cb.items_by_id
    gvc = scores["GVC"].to_numpy() if "GVC" in scores else rng.normal(size=n)
    up_link = scores["UP_LINK"].to_numpy() if "UP_LINK" in scores else rng.normal(size=n)
    embedded = "apparel" in cb.id  # Ningbo apparel: deeply embedded through OEM (seed 003)
    if "firm_name" in items:
        truth["firm_name"] = [f"模拟企业 Simulated firm {t}" for t in truth[cb.respondent_id]]
    if "respondent_role" in items:
        truth["respondent_role"] = rng.choice([1, 2, 3, 4], size=n, p=[0.45, 0.2, 0.3, 0.05]).astype(float)
    if "founded" in items:
        truth["founded"] = rng.integers(1980, 2016, size=n).astype(float)
    if "employees" in items:
        truth["employees"] = np.clip(np.round(np.exp(rng.normal(4.6, 1.0, n))), 5, 20000)
    if "ownership" in items:
        truth["ownership"] = rng.choice([1, 2, 3, 4, 5, 6], size=n,
                                        p=[0.78, 0.04, 0.06, 0.05, 0.05, 0.02]).astype(float)
    if "sales_band" in items:
        emp = truth.get("employees", np.full(n, 100.0))
        truth["sales_band"] = np.clip(np.round(np.log10(emp) + rng.normal(0.2, 0.6, n)), 1, 5)
    if "export_share" in items:
        base, spread = (55.0, 20.0) if embedded else (18.0, 12.0)
        truth["export_share"] = np.clip(np.round(base + spread * gvc + rng.normal(0, 8, n)), 0, 100)
    if {"oem_share", "odm_share", "obm_share"} <= set(items):
        w = rng.dirichlet([6, 2, 1] if embedded else [3, 2, 2], size=n)
        shift = np.clip(0.08 * up_link, -0.2, 0.2)  # upgraded firms move from OEM towards OBM
        w[:, 0] = np.clip(w[:, 0] - shift, 0, 1)
        w[:, 2] = np.clip(w[:, 2] + shift, 0, 1)
        w = w / w.sum(axis=1, keepdims=True)
        oem = np.round(100 * w[:, 0])
        odm = np.round(100 * w[:, 1])
        truth["oem_share"], truth["odm_share"] = oem, odm
        truth["obm_share"] = np.clip(100 - oem - odm, 0, 100)
    if "markets" in items:
        codes = [o.code for o in items["markets"].options]
        share = np.asarray(truth.get("export_share", np.full(n, 30.0)))
        out = []
        for k in range(n):
            chosen = {codes[0]} if rng.random() < 0.9 - share[k] / 200 else set()
            for c in codes[1:-1]:
                if rng.random() < share[k] / 160:
                    chosen.add(c)
            out.append(",".join(str(c) for c in sorted(chosen or {codes[0]})))
        truth["markets"] = out
    if "chain_position" in items:
        codes = [o.code for o in items["chain_position"].options]
        p = [0.2, 0.6, 0.1, 0.1] if embedded else [0.3, 0.35, 0.25, 0.1]
        out = []
        for _ in range(n):
            first = int(rng.choice(codes, p=p))
            extra = {int(c) for c in codes if c != first and rng.random() < 0.15}
            out.append(",".join(str(c) for c in sorted({first} | extra)))
        truth["chain_position"] = out
    if "buyer_governance" in items:
        p = [0.15, 0.15, 0.25, 0.4, 0.05] if embedded else [0.45, 0.15, 0.25, 0.1, 0.05]
        truth["buyer_governance"] = rng.choice([1, 2, 3, 4, 5], size=n, p=p).astype(float)
    if "upgrading_3y" in items:
        out = []
        for k in range(n):
            chosen = {c for c, base in ((1, 0.6), (2, 0.45), (3, 0.2), (4, 0.05))
                      if rng.random() < min(0.95, base + 0.1 * up_link[k])}
            out.append(",".join(str(c) for c in sorted(chosen)) if chosen else "5")
        truth["upgrading_3y"] = out


def _mess(cb: Codebook, truth, rng, rate: float) -> tuple[list[dict[str, Any]], list[dict[str, int]]]:
    """Rewrite a share ``rate`` of the answers as field teams write them; blank some of them.

    Blanked answers are set to missing in ``truth`` so the truth table stays what an exact
    import must recover.
    """
    import numpy as np

    records: list[dict[str, Any]] = []
    ticks: list[dict[str, int]] = []
    ids = [i.id for i in cb.items]
    columns = {iid: truth[iid].to_numpy(dtype=object) for iid in ids}
    for r in range(len(truth)):
        rec: dict[str, Any] = {}
        tick: dict[str, int] = {}
        for item in cb.items:
            value = columns[item.id][r]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            if item.type in ("likert", "integer", "year", "single") or (
                    item.type == "number" and float(value).is_integer()):
                value = int(value)
            rec[item.id] = value
            if rate <= 0 or item.id == cb.respondent_id or rng.random() >= rate:
                continue
            kind = rng.random()
            if item.type == "likert":
                point = int(value)
                # rating questions are rarely left blank in interviewer-assisted firm surveys;
                # most field noise is in how an answer is written
                if kind < BLANK_SHARE_LIKERT:
                    rec.pop(item.id)
                    truth.iat[r, truth.columns.get_loc(item.id)] = np.nan
                elif kind < 0.30:
                    rec[item.id] = item.scale.labels[point]["zh"]
                elif kind < 0.42:
                    rec[item.id] = item.scale.labels[point]["en"]
                elif kind < 0.60:
                    rec[item.id] = str(point).translate(_FULLWIDTH)
                elif kind < 0.72:
                    rec[item.id] = f"{point}.0"
                elif kind < 0.80:
                    rec[item.id] = f"{point}分"
                else:  # a tick in the form's boxes; the wide layout keeps the code
                    tick[item.id] = point
            elif item.type in ("integer", "year", "number"):
                if kind < BLANK_SHARE_PROFILE:  # "don't know" on a figure is common
                    rec.pop(item.id)
                    truth.iat[r, truth.columns.get_loc(item.id)] = np.nan
                elif kind < 0.6:
                    rec[item.id] = str(value).translate(_FULLWIDTH)
                else:
                    rec[item.id] = str(value)
            elif item.type == "single":
                rec[item.id] = item.option(int(value)).label["zh"] if kind < 0.5 else str(value)
            elif item.type == "multiple":
                rec[item.id] = str(value).replace(",", "，" if kind < 0.5 else ";")
        records.append(rec)
        ticks.append(tick)
    return records, ticks


def read_paths_file(path: str | Path) -> dict[tuple[str, str], float]:
    """Read true path coefficients from YAML: a mapping ``"LHS ~ RHS": value``."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise SurveykitError(f"{path}: cannot read paths file ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise SurveykitError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise SurveykitError(f"{path}: must be a mapping such as 'UP_LINK ~ GVC: 0.55'")
    try:
        return parse_path_overrides({str(k): v for k, v in data.items()})
    except SurveykitError as exc:
        raise SurveykitError(f"{path}: {exc}") from None
