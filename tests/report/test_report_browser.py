"""A real browser opens the HTML report: no console errors, a screenshot, the sections rendered.

Runs whenever Debian's ``chromium`` is installed.  Without it the test skips,
unless ``SURVEYKIT_REQUIRE_BROWSER=1`` (set by CI, which installs chromium),
when it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from surveykit.report.document import SECTIONS

from .report_fixture import SCRIPT

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # any attempt to reach the network fails and is logged as a console error
         "--host-resolver-rules=MAP * ~NOTFOUND",
         "--enable-logging=stderr", "--v=0"]
WIDTH, HEIGHT = 1280, 2400


@pytest.fixture(scope="module")
def chromium() -> str:
    path = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
    if path is None:
        if os.environ.get("SURVEYKIT_REQUIRE_BROWSER") == "1":
            pytest.fail("SURVEYKIT_REQUIRE_BROWSER=1 but chromium is not installed "
                        "(apt-get install -y chromium)")
        pytest.skip("chromium is not installed (Debian package 'chromium'); "
                    "SURVEYKIT_REQUIRE_BROWSER=1 turns this into a failure")
    return path


def run(chromium: str, page: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{page.stem}-{len(list(tmp.iterdir()))}"
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    """Page console output as chromium logs it (``...:INFO:CONSOLE:1] "message", source: ...``)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_detector_sees_console_errors(chromium, tmp_path):
    # a control page proves that this chromium logs console errors where we look for them
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><p>x</p><script>console.error("control-error");'
                    'throw new Error("control-throw");</script>', encoding="utf-8")
    proc = run(chromium, page, tmp_path, f"--screenshot={tmp_path / 'control.png'}",
               f"--window-size={WIDTH},{HEIGHT}")
    messages = console_messages(proc.stderr)
    assert any("control-error" in m for m in messages), proc.stderr
    assert any("Uncaught Error: control-throw" in m for m in messages), proc.stderr


@pytest.fixture(scope="module")
def blank_png_bytes(chromium, tmp_path_factory) -> int:
    """Size of a screenshot of an empty page of the same size."""
    tmp = tmp_path_factory.mktemp("blank")
    blank = tmp / "blank.html"
    blank.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
    run(chromium, blank, tmp, f"--screenshot={tmp / 'blank.png'}", f"--window-size={WIDTH},{HEIGHT}")
    return (tmp / "blank.png").stat().st_size


@pytest.fixture(scope="module")
def opened(chromium, comparison_bundle, tmp_path_factory) -> dict:
    """One browser run per language: screenshot and rendered DOM, and (Chinese) a printed PDF."""
    out = {}
    for lang in ("zh", "en"):
        tmp = tmp_path_factory.mktemp(f"browser-{lang}")
        shot, pdf = tmp / "report.png", tmp / "report.pdf"
        # printing takes seconds; the Chinese page, the harder one to lay out, is printed
        printing = ["--no-pdf-header-footer", f"--print-to-pdf={pdf}"] if lang == "zh" else []
        proc = run(chromium, comparison_bundle / "report" / f"report.{lang}.html", tmp, f"--screenshot={shot}",
                   f"--window-size={WIDTH},{HEIGHT}", "--dump-dom", *printing)
        out[lang] = {"proc": proc, "png": shot, "pdf": pdf}
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_opens_without_console_errors(opened, lang):
    proc = opened[lang]["proc"]
    assert proc.returncode == 0, proc.stderr
    assert console_messages(proc.stderr) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_screenshot(opened, blank_png_bytes, lang):
    png = opened[lang]["png"]
    assert png_size(png) == (WIDTH, HEIGHT)
    # a blank page of this size compresses to a few kB; tables, text and bars take far more
    assert png.stat().st_size > 20 * blank_png_bytes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rendered_dom_has_every_section_and_no_script(opened, lang):
    dom = opened[lang]["proc"].stdout
    for sid, _ in SECTIONS:
        assert f'id="sec-{sid}"' in dom, sid
    assert "<script" not in dom and SCRIPT not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count("<svg") == 4


def test_report_prints_to_pdf(opened):
    data = opened["zh"]["pdf"].read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert 10 <= pages <= 60  # A4 pages of the whole report, no runaway page per table row
