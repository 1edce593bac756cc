"""The GUM analysis end to end: measurement, structure, mediation and the cluster comparison.

>>> result = surveykit.analyze("survey.sqlite", "questionnaires/gum_model.lav")   # doctest: +SKIP
>>> result.write("reports/comparison/")                                          # doctest: +SKIP

See :mod:`surveykit.analysis.steps` for the per-cluster steps,
:mod:`surveykit.analysis.invariance` for the comparison and
:mod:`surveykit.analysis.bundle` for the results bundle and ``rerun``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from surveykit.analysis.options import AnalysisOptions
from surveykit.errors import SurveykitError

__all__ = ["analyze", "Analysis", "AnalysisOptions", "rerun", "RerunReport"]

_TITLE = {"zh": "全球价值链视角下地方产业集群升级机理（GUM 模型）分析",
          "en": "Upgrading mechanism of local industrial clusters (GUM model): analysis"}


@dataclass(frozen=True)
class Analysis:
    """The results of :func:`analyze`: every number in ``results``, provenance in ``manifest``."""

    results: dict[str, Any]
    manifest: dict[str, Any]
    tables: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def groups(self) -> list[str]:
        return list(self.results["groups"])

    @property
    def simulated(self) -> bool:
        return bool(self.results.get("simulated"))

    @cached_property
    def comparison(self) -> dict[str, Any] | None:
        """The cluster comparison (None for a single-cluster analysis)."""
        return self.results.get("comparison")

    def group(self, gid: str) -> dict[str, Any]:
        """The per-cluster results of one cluster (or ``"pooled"``)."""
        try:
            return self.results["per_group"][gid]
        except KeyError:
            raise KeyError(f"no group {gid!r} in this analysis (has: "
                           f"{', '.join(self.results['per_group'])})") from None

    def subset(self, gid: str) -> Analysis:
        """A single-cluster analysis of one of the analysed clusters (same numbers)."""
        self.group(gid)
        results = dict(self.results)
        results.update(scope="cluster", groups=[gid], per_group={gid: self.results["per_group"][gid]},
                       group_labels={gid: self.results["group_labels"][gid]})
        results.pop("comparison", None)
        results["items"] = {iid: {**meta, "text": {gid: meta["text"][gid]}}
                            for iid, meta in self.results["items"].items()}
        manifest = dict(self.manifest)
        manifest["inputs"] = [i for i in self.manifest["inputs"] if i.get("codebook") == gid]
        manifest["codebooks"] = [c for c in self.manifest["codebooks"] if c["id"] == gid]
        opts = dict(manifest["options"])
        opts.update(groups=[gid], pooled=False)
        manifest["options"] = opts
        results["options"] = opts
        tables = {k: v for k, v in self.tables.items() if k.startswith(gid + "_")}
        return Analysis(results, manifest, tables)

    def write(self, out: str | Path) -> Path:
        """Write the bundle (``results.json``, ``manifest.json``, ``tables/``) into ``out``."""
        from surveykit.analysis.bundle import write_bundle

        return write_bundle(out, self.results, self.manifest, self.tables)

    def summary(self) -> str:
        """A plain-text overview: per cluster, fit and mechanism paths; the comparison statement."""
        lines = []
        if self.simulated:
            lines.append("SIMULATED DATA — not real survey responses.")
        for gid, res in self.results["per_group"].items():
            lines.append(f"[{gid}] {res['n_analysed']} firms analysed ({res['n_quarantined']} quarantined, "
                         f"{res['n_flagged']} flagged and excluded)")
            fit = res.get("structural", {}).get("fit")
            if fit:
                lines.append("  structural model: " + ", ".join(
                    f"{k} {fit[k]:.3f}" for k in ("cfi", "tli", "rmsea", "srmr") if fit.get(k) is not None))
            for p in res.get("structural", {}).get("paths", []):
                if p["lhs"].startswith("UP_"):
                    lines.append(f"  {p['lhs']} ~ {p['rhs']}: std {p['std_all']:.3f} (p {p['pvalue']:.3g})")
            for lim in res.get("limits", []):
                lines.append(f"  limit: {lim['en']}")
        if self.comparison:
            for step in self.comparison["invariance"]:
                lines.append(f"  invariance {step['step']}: {step['decision']}")
            lines.append(self.comparison["statement"]["en"])
        return "\n".join(lines)

    __str__ = summary

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.summary()) + "</pre>"


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:  # not a possible file name
        return False


def _read_model(model: str | Path) -> tuple[str, str | None]:
    """(text, path) of a model given as a file path or as lavaan text."""
    text = str(model)
    if isinstance(model, Path) or ("\n" not in text and ("~" not in text or _is_file(text))):
        path = Path(model)
        try:
            return path.read_text(encoding="utf-8-sig"), str(path)
        except OSError as exc:
            raise SurveykitError(f"{path}: cannot read model ({exc.strerror or exc})") from None
    return text, None


def _check_model(text: str, path: str | None) -> None:
    """Parse the model before any work, naming its file in a syntax error."""
    from surveykit import parse_model
    from surveykit.errors import ModelSyntaxError

    try:
        parse_model(text)
    except ModelSyntaxError as exc:
        raise ModelSyntaxError(f"{path or 'model'}: {exc}", line=exc.line, column=exc.column,
                               text=exc.text) from None


def analyze(store: Any, model: str | Path, *, options: AnalysisOptions | None = None,
            progress: Callable[[str], None] | None = None,
            boot_progress: Callable[[str, int, int], None] | None = None,
            **option_values: Any) -> Analysis:
    """Run the GUM analysis on the answers in a store.

    Parameters
    ----------
    store : str, Path or Store
        The survey store (see :func:`surveykit.open_store`).
    model : str or Path
        A model file in lavaan syntax, or the model text.
    options : AnalysisOptions, optional
        Every option that decides the numbers; keyword arguments override
        single fields (``estimator="ML"``, ``bootstrap=500``, ``seed=1`` …).
    progress : callable, optional
        Called with a short message before each step.
    boot_progress : callable, optional
        ``boot_progress(group, done, total)`` during each bootstrap, e.g. for a progress bar.

    Returns
    -------
    Analysis
        With ``results`` (every number a report shows), ``manifest``
        (inputs with sha256, codebooks, model, options, versions) and CSV
        ``tables``; ``.write(dir)`` writes the bundle.

    Notes
    -----
    Per cluster (and pooled when several clusters are analysed): data
    quality, item statistics, reliability, factorability and EFA, common method
    bias, CFA with CR/AVE/Fornell–Larcker/HTMT, the structural model with
    bootstrap intervals of the indirect effects, the same paths on composite
    scores (OLS-HC3, SUR, 3SLS), governance moderation and composite
    mediation. With two clusters: pre-flight checks, the invariance ladder
    with partial invariance, and a Wald test of every structural path.
    """
    from surveykit.analysis.data import GroupData, load_groups
    from surveykit.analysis.steps import analyse_group
    from surveykit.store import Store, open_store

    opts = options or AnalysisOptions()
    if option_values:
        opts = replace(opts, **{k: (tuple(v) if k == "groups" else v) for k, v in option_values.items()})
    if opts.estimator not in ("ML", "MLR"):
        raise SurveykitError(f"estimator ({opts.estimator!r}) must be ML or MLR")
    if opts.bootstrap and opts.bootstrap < 100:
        raise SurveykitError(f"bootstrap ({opts.bootstrap}) must be 0 or at least 100 draws")
    say = progress or (lambda _msg: None)
    model_text, model_path = _read_model(model)
    _check_model(model_text, model_path)
    own = not isinstance(store, Store)
    st = open_store(store, create=False) if own else store
    try:
        groups = load_groups(st, opts.groups, include_flagged=opts.include_flagged)
        files = st.imports()
    finally:
        if own:
            st.close()
    per_group: dict[str, Any] = {}
    composites: dict[str, Any] = {}
    for g in groups:
        say(f"{g.id}: measurement, CFA, structural model, composites")
        per_group[g.id], composites[g.id] = analyse_group(g, model_text, opts, _bind(boot_progress, g.id))
    labels = {g.id: g.label for g in groups}
    comparison = None
    if len(groups) >= 2:
        import pandas as pd

        if opts.pooled:
            say("pooled: all clusters together")
            pooled = GroupData(
                id="pooled", codebook=groups[0].codebook,
                answers=pd.concat([g.answers for g in groups], ignore_index=True),
                n_firms=sum(g.n_firms for g in groups), n_quarantined=sum(g.n_quarantined for g in groups),
                n_flagged=sum(g.n_flagged for g in groups),
                findings=pd.concat([g.findings for g in groups], ignore_index=True),
                files=pd.concat([g.files for g in groups], ignore_index=True), policy=groups[0].policy)
            per_group["pooled"], _ = analyse_group(pooled, model_text, opts,
                                                   _bind(boot_progress, "pooled"))
            labels["pooled"] = {"zh": "合并样本", "en": "Pooled sample"}
        say("comparison: invariance ladder and path differences")
        from surveykit.analysis.compare import compare_clusters

        comparison = compare_clusters(groups[:2], per_group, model_text, opts)
    cb0 = groups[0].codebook
    scale = cb0.likert_items()[0].scale
    simulated = any(g.simulated for g in groups)
    results = {
        "schema": "surveykit.results/1",
        "simulated": simulated,
        "title": _TITLE,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "scope": "comparison" if comparison else "cluster",
        "groups": [g.id for g in groups],
        "group_labels": labels,
        "constructs": {cid: {"name": c.name, "role": c.role, "items": list(c.items),
                             "reverse": [i for i in c.items if cb0.item(i).reverse]}
                       for cid, c in cb0.constructs.items()},
        "items": {i.id: {"construct": i.construct, "reverse": i.reverse,
                         "text": {g.id: g.codebook.item(i.id).text for g in groups}}
                  for i in cb0.likert_items()},
        "scale": {"min": scale.min, "max": scale.max,
                  "labels": {str(p): lab for p, lab in scale.labels.items()}},
        "model_text": model_text,
        "options": opts.to_dict(),
        "per_group": per_group,
    }
    if comparison:
        results["comparison"] = comparison
    manifest = _manifest(groups, files, model_text, model_path, opts, store, simulated)
    return Analysis(results, manifest, _tables(results))


def _bind(callback, name):
    return None if callback is None else (lambda done, total: callback(name, done, total))


def _manifest(groups, files, model_text, model_path, opts, store, simulated) -> dict[str, Any]:
    from surveykit.analysis.bundle import package_versions

    ids = {g.id for g in groups}
    inputs = []
    for row in files.itertuples():
        if row.status != "imported" or row.questionnaire not in ids or _present(row.superseded_by):
            continue
        inputs.append({"path": _portable(row.path), "name": row.name, "sha256": row.sha256, "size": int(row.size),
                       "codebook": row.questionnaire, "codebook_sha256": row.codebook_sha256,
                       "layout": row.layout})
    return {
        "schema": "surveykit.manifest/1",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["surveykit", *sys.argv[1:]]) if Path(sys.argv[0]).name == "surveykit" else None,
        "simulated": simulated,
        "store": {"path": _portable(str(getattr(store, "path", store)))},
        "inputs": inputs,
        "codebooks": [{"id": g.id, "version": g.codebook.version, "sha256": g.codebook.sha256,
                       "path": _portable(g.codebook.path)} for g in groups],
        "policy": groups[0].policy,
        "model": {"path": _portable(model_path), "sha256": hashlib.sha256(model_text.encode("utf-8")).hexdigest(),
                  "text": model_text},
        "options": opts.to_dict(),
        "seed": opts.seed,
        "versions": package_versions(),
    }


def _portable(path: str | None) -> str | None:
    """A path relative to the working directory when it lies inside it, so bundles move with a checkout."""
    if not path:
        return path
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _present(value: Any) -> bool:
    return value is not None and value == value  # NaN is absent


def _tables(results: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    out: dict[str, Any] = {}
    for gid, res in results["per_group"].items():
        out[f"{gid}_item_stats"] = pd.DataFrame([{k: v for k, v in r.items() if k != "counts"}
                                                 | {f"n_{c}": n for c, n in r["counts"].items()}
                                                 for r in res["item_stats"]])
        out[f"{gid}_reliability"] = pd.DataFrame(res["reliability"])
        if res.get("cfa", {}).get("loadings"):
            out[f"{gid}_cfa_loadings"] = pd.DataFrame(res["cfa"]["loadings"])
        if res.get("structural", {}).get("paths"):
            out[f"{gid}_paths"] = pd.DataFrame(res["structural"]["paths"])
            out[f"{gid}_indirect"] = pd.DataFrame(res["structural"]["indirect"])
        for name, rows in res.get("composite", {}).items():
            out[f"{gid}_composite_{name}"] = pd.DataFrame(rows)
        if res.get("moderation"):
            out[f"{gid}_moderation"] = pd.DataFrame([{k: v for k, v in r.items() if k != "simple_slopes"}
                                                     for r in res["moderation"]])
        if res.get("mediation"):
            out[f"{gid}_mediation"] = pd.DataFrame(res["mediation"])
    comp = results.get("comparison")
    if comp:
        out["comparison_invariance"] = pd.DataFrame([{k: v for k, v in r.items() if k != "freed"}
                                                     | {"freed": "; ".join(f["parameter"] for f in r["freed"])}
                                                     for r in comp["invariance"]])
        out["comparison_paths"] = pd.DataFrame([{k: v for k, v in r.items() if k not in ("est", "std_all")}
                                                | {f"est_{g}": v for g, v in r["est"].items()}
                                                | {f"std_{g}": v for g, v in r["std_all"].items()}
                                                for r in comp["path_tests"]])
    return out


@dataclass(frozen=True)
class RerunReport:
    """What ``rerun`` found: numbers that changed beyond the tolerance."""

    manifest: str
    changes: list
    rtol: float
    atol: float
    analysis: Analysis = field(repr=False)

    @property
    def ok(self) -> bool:
        return not self.changes

    def summary(self) -> str:
        if self.ok:
            return (f"rerun of {self.manifest}: every number reproduced "
                    f"(tolerance {self.atol:g} + {self.rtol:g}·|x|)")
        lines = [f"rerun of {self.manifest}: {len(self.changes)} value(s) changed beyond "
                 f"{self.atol:g} + {self.rtol:g}·|x|:"]
        lines += [f"  {c}" for c in self.changes]
        return "\n".join(lines)

    __str__ = summary


def rerun(manifest_path: str | Path, *, rtol: float = 1e-6, atol: float = 1e-9,
          progress: Callable[[str], None] | None = None) -> RerunReport:
    """Re-run an analysis from its manifest and compare every number with its ``results.json``.

    Raises
    ------
    SurveykitError
        An input file is missing or its sha256 differs from the manifest, or
        the manifest or results cannot be read.
    """
    import tempfile

    from surveykit import import_paths
    from surveykit.analysis.bundle import compare_results, load_json, sha256_file
    from surveykit.codebook import load_codebook
    from surveykit.validate.findings import ExclusionPolicy

    manifest_path = Path(manifest_path)
    manifest = load_json(manifest_path, "manifest")
    if manifest.get("schema") != "surveykit.manifest/1":
        raise SurveykitError(f"{manifest_path}: not a surveykit manifest (schema "
                             f"{manifest.get('schema')!r})")
    old = load_json(manifest_path.with_name("results.json"), "results")
    for item in manifest["inputs"]:
        path = Path(item["path"])
        if not path.exists():
            raise SurveykitError(f"{path}: input of the analysis is missing (recorded in {manifest_path})")
        digest = sha256_file(path)
        if digest != item["sha256"]:
            raise SurveykitError(f"{path}: input changed since the analysis (sha256 {digest[:12]}…, "
                                 f"manifest has {item['sha256'][:12]}…); refusing to rerun")
    codebooks = {}
    for cbm in manifest["codebooks"]:
        if not cbm.get("path") or not Path(cbm["path"]).exists():
            raise SurveykitError(f"{cbm.get('path')}: codebook {cbm['id']!r} of the analysis is missing")
        cb = load_codebook(cbm["path"])
        if cb.sha256 != cbm["sha256"]:
            raise SurveykitError(f"{cbm['path']}: codebook changed since the analysis "
                                 f"(sha256 {cb.sha256[:12]}…, manifest has {cbm['sha256'][:12]}…)")
        codebooks[cbm["id"]] = cb
    model_text = manifest["model"]["text"]
    policy = ExclusionPolicy.from_json(__import__("json").dumps(manifest.get("policy") or {}))
    options = AnalysisOptions.from_dict(manifest["options"])
    with tempfile.TemporaryDirectory(prefix="surveykit-rerun-") as tmp:
        store_path = Path(tmp) / "rerun.sqlite"
        for cid, cb in codebooks.items():
            paths = [i["path"] for i in manifest["inputs"] if i["codebook"] == cid]
            if progress:
                progress(f"importing {len(paths)} file(s) of {cid}")
            import_paths(paths, cb, store_path, policy=policy, jobs=1)
        result = analyze(store_path, model_text, options=options, progress=progress)
    changes = compare_results(old, result.results, rtol=rtol, atol=atol)
    return RerunReport(str(manifest_path), changes, rtol, atol, result)
