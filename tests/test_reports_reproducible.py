"""The committed example reports are reproducible from their manifests (what a reviewer runs)."""

from __future__ import annotations

import json

from surveykit.analysis import rerun


def test_committed_example_bundle_reruns_to_the_same_numbers(root, monkeypatch):
    monkeypatch.chdir(root)  # manifests record input paths relative to the repository root
    manifest = root / "reports" / "ningbo_apparel" / "manifest.json"
    assert json.loads(manifest.read_text())["simulated"] is True
    report = rerun(manifest)
    assert report.ok, report.summary()
