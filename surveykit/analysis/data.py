"""The analysis data of each cluster: answers, codebook, findings and provenance from the store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from surveykit.codebook import Codebook, parse_codebook
from surveykit.errors import SurveykitError


@dataclass(frozen=True)
class GroupData:
    """One cluster's analysable answers and where they came from."""

    id: str
    codebook: Codebook
    answers: pd.DataFrame  # one row per firm; Likert items as answered (not reversed)
    n_firms: int  # firms imported, before exclusions
    n_quarantined: int
    n_flagged: int
    findings: pd.DataFrame
    files: pd.DataFrame
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> dict[str, str]:
        return {"zh": self.codebook.cluster["zh"], "en": self.codebook.cluster["en"]}

    @property
    def simulated(self) -> bool:
        """Whether any workbook of this cluster carries the simulated-data marker."""
        if "simulated" in self.files.columns:
            return bool(self.files["simulated"].fillna(False).astype(bool).any())
        return any(workbook_is_simulated(p) for p in self.files.get("path", []))


def workbook_is_simulated(path: str | Path) -> bool:
    """Whether a workbook's hidden ``_surveykit`` marker says ``simulated: yes``."""
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        if "_surveykit" not in wb.sheet_names:
            return False
        rows = wb.get_sheet_by_name("_surveykit").to_python()
    except Exception:  # an unreadable or vanished file cannot vouch for anything
        return False
    return any(len(r) > 1 and str(r[0]) == "simulated" and str(r[1]).lower() == "yes" for r in rows)


def stored_codebook(store, questionnaire: str) -> Codebook:
    """The codebook a questionnaire was imported with, rebuilt from the text kept in the store."""
    info = store.codebook_info(questionnaire)
    if info is None:
        raise SurveykitError(f"{store.path}: no questionnaire {questionnaire!r} in the store")
    row = store.con.execute("SELECT source, path FROM codebooks WHERE sha256 = ?",
                            (info["sha256"],)).fetchone()
    source, path = (row or (None, None))
    if source:
        return parse_codebook(source, name=path or f"{questionnaire} (stored codebook)")
    if path and Path(path).exists():
        from surveykit.codebook import load_codebook

        cb = load_codebook(path)
        if cb.sha256 == info["sha256"]:
            return cb
    raise SurveykitError(f"{store.path}: the codebook of {questionnaire!r} is not kept in the store "
                         "and its file is missing or changed; re-import with the codebook")


def load_groups(store, groups: tuple[str, ...] = (), *, include_flagged: bool = False) -> list[GroupData]:
    """Every requested cluster of the store (all of them when ``groups`` is empty)."""
    available = store.questionnaires()
    if not available:
        raise SurveykitError(f"{store.path}: the store holds no imported answers; run surveykit import first")
    wanted = list(groups) or available
    unknown = [g for g in wanted if g not in available]
    if unknown:
        raise SurveykitError(f"{store.path}: no questionnaire {unknown[0]!r} in the store "
                             f"(has: {', '.join(available)})")
    files = store.imports()
    findings = store.findings()
    policy = store.policy()
    policy_dict = json.loads(policy.to_json())
    out = []
    for qid in wanted:
        cb = stored_codebook(store, qid)
        answers = store.responses(qid, include_flagged=include_flagged)
        everyone = store.responses(qid, include_flagged=True, include_quarantined=True)
        kept = store.responses(qid, include_flagged=True)
        gfiles = files[(files["questionnaire"] == qid) & (files["status"] == "imported")
                       & files["superseded_by"].isna()]
        gfind = findings[findings["questionnaire"] == qid] if "questionnaire" in findings else findings
        out.append(GroupData(
            id=qid, codebook=cb, answers=answers.reset_index(drop=True), n_firms=len(everyone),
            n_quarantined=len(everyone) - len(kept), n_flagged=len(kept) - len(answers),
            findings=gfind.reset_index(drop=True), files=gfiles.reset_index(drop=True),
            policy=policy_dict))
    return out


def scored(answers: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Likert items with the reverse-keyed ones reversed (``min + max - x``); other columns dropped."""
    out = {}
    for item in codebook.likert_items():
        x = answers[item.id].astype(float)
        out[item.id] = item.scale.min + item.scale.max - x if item.reverse else x
    return pd.DataFrame(out, index=answers.index)
