"""The results bundle: ``results.json``, ``manifest.json`` and CSV tables, and rerunning it.

``rerun`` reproduces an analysis from its manifest: it refuses when an input's
sha256 differs, imports the recorded input files into a fresh store with the
recorded codebooks and exclusion policy, analyses them with the recorded
model and options, and lists every number that moved beyond the tolerance.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surveykit.errors import SurveykitError

RESULTS_SCHEMA = "surveykit.results/1"
MANIFEST_SCHEMA = "surveykit.manifest/1"
# keys whose values are provenance, not results: never compared by rerun
_VOLATILE = {"created", "warnings"}


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("surveykit", "numpy", "scipy", "pandas", "statsmodels", "linearmodels",
                 "pingouin", "openpyxl", "python-calamine", "jinja2"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def dumps(obj: Any) -> str:
    """JSON with full double precision, NaN as null, stable key order."""
    return json.dumps(_clean(obj), ensure_ascii=False, indent=1, sort_keys=False, allow_nan=False)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        try:
            return _clean(obj.item())
        except (TypeError, ValueError):
            return str(obj)
    return obj


def flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a results tree as ``(path, value)``; lists of records keyed by their names."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in _VOLATILE:
                continue
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from flatten(v, f"{prefix}[{_record_key(v, i)}]")
    else:
        yield prefix, obj


def _record_key(v: Any, i: int) -> str:
    if isinstance(v, dict):
        for keys in (("lhs", "rhs"), ("item",), ("construct",), ("name",), ("step",), ("path",),
                     ("x", "m", "y"), ("factor", "item"), ("code", "respondent")):
            if all(k in v for k in keys):
                return "/".join(str(v[k]) for k in keys)
    return str(i)


@dataclass(frozen=True)
class Change:
    """One number (or value) that differs between two results."""

    path: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.path}: {self.old!r} -> {self.new!r}"


def compare_results(old: dict, new: dict, *, rtol: float = 1e-6, atol: float = 1e-9) -> list[Change]:
    """Values of two results trees that differ beyond ``atol + rtol * |old|``."""
    a, b = dict(flatten(old)), dict(flatten(new))
    changes = []
    for path in sorted(set(a) | set(b)):
        x, y = a.get(path, "<absent>"), b.get(path, "<absent>")
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and \
                not isinstance(x, bool) and not isinstance(y, bool):
            if abs(x - y) > atol + rtol * abs(x):
                changes.append(Change(path, x, y))
        elif x != y:
            changes.append(Change(path, x, y))
    return changes


def write_bundle(out: str | Path, results: dict, manifest: dict, tables: dict[str, Any]) -> Path:
    """Write ``results.json``, ``manifest.json`` and ``tables/*.csv`` into ``out``."""
    from surveykit.store.export import neutralise

    out = Path(out)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    text = dumps(results)
    _atomic_write(out / "results.json", text)
    manifest = dict(manifest)
    manifest["results_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    _atomic_write(out / "manifest.json", dumps(manifest))
    for name, frame in tables.items():
        safe = frame.copy()
        for col in safe.columns:
            if safe[col].dtype == object:
                safe[col] = safe[col].map(neutralise)
        safe.to_csv(out / "tables" / f"{name}.csv", index=False, encoding="utf-8")
    return out


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def load_json(path: str | Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SurveykitError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise SurveykitError(f"{path}: {what} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
