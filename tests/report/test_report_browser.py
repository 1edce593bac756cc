"""A real browser opens the HTML report: no console errors, a screenshot, the sections rendered.

Runs whenever Debian's ``chromium`` is installed.  Without it the test skips,
unless ``SURVEYKIT_REQUIRE_BROWSER=1`` (set by CI, which installs chromium),
when it fails.
"""

from __future__ import annotations

import os
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


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_opens_without_console_errors_and_renders(chromium, comparison_bundle, blank_png_bytes, tmp_path,
                                                         lang):
    page = comparison_bundle / "report" / f"report.{lang}.html"
    shot = tmp_path / f"report-{lang}.png"
    proc = run(chromium, page, tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}")
    assert proc.returncode == 0, proc.stderr
    assert console_messages(proc.stderr) == []
    assert png_size(shot) == (WIDTH, HEIGHT)
    # a blank page of this size compresses to a few kB; tables, text and bars take far more
    assert shot.stat().st_size > 20 * blank_png_bytes


def test_rendered_dom_has_every_section_and_no_script(chromium, comparison_bundle, tmp_path):
    page = comparison_bundle / "report" / "report.en.html"
    proc = run(chromium, page, tmp_path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr
    dom = proc.stdout
    for sid, _ in SECTIONS:
        assert f'id="sec-{sid}"' in dom, sid
    assert "<script" not in dom and SCRIPT not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count("<svg") == 4
    assert console_messages(proc.stderr) == []
