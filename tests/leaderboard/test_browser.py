"""End to end in a real headless Chromium: ``segrepro leaderboard`` on a loopback port, the rendered
page checked for the known fixture's rankings and reproduced-vs-published verdicts, and a screenshot.

Set ``SEGREPRO_SCREENSHOT=path.png`` to keep the screenshot (the README's comes from this test).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from fixture_data import UNET_DICE, XNET_DICE

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1100",
    "--virtual-time-budget=30000",  # lets the page's websocket session render before the dump
]
PATIENCE_S = 180
"""How long a page may take to draw before the test fails (the first script run imports plotly and pandas)."""
GRID = re.compile(r'<table role="grid".*?</table>', re.S)
HEADER = re.compile(r'<th role="columnheader"[^>]*>([^<]*)</th>')
CELL = re.compile(r'<td role="gridcell"[^>]*id="glide-cell-(\d+)-(\d+)"[^>]*>(.*?)</td>', re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(fixture_tree, tmp_path):
    """The app started the way a user starts it, on a free loopback port; stopped afterwards."""
    port = free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed below, after the server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "segrepro.cli", "leaderboard", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
        start_new_session=True,  # its own process group: the CLI and the Streamlit child stop together
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"leaderboard did not answer on {url}:\n{(tmp_path / 'server.log').read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def browse(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """One headless load in a fresh profile."""
    shutil.rmtree(profile, ignore_errors=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url], capture_output=True, text=True, timeout=180
    )


def rendered_tables(url: str, profile: Path, column: str) -> list[list[dict[str, str]]]:
    """The page's tables once one with ``column`` shows rows (see ``rendered``)."""
    return rendered(url, profile, column)[1]


def rendered(url: str, profile: Path, column: str) -> tuple[str, list[list[dict[str, str]]]]:
    """The page's DOM and tables once a table with ``column`` shows rows. Virtual time does not wait for the
    server's script run (imports, loading, then the websocket messages; slow on a busy machine), so
    a load that came back before the table was drawn is repeated until ``PATIENCE_S`` has passed."""
    tables: list[list[dict[str, str]]] = []
    loads, deadline = 0, time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        dom = browse(url, profile, "--dump-dom").stdout
        tables, loads = grids(dom), loads + 1
        if any(rows and column in rows[0] for rows in tables):
            return dom, tables
    pytest.fail(f"{url}: no table with a {column!r} column after {loads} loads in {PATIENCE_S} s; got {tables}")


def grids(dom: str) -> list[list[dict[str, str]]]:
    """Each rendered table's visible rows as {column: text}: Streamlit's tables draw on a canvas and
    expose the visible cells as an accessible grid, which is what a screen reader (and this test) reads."""
    out = []
    for table in GRID.findall(dom):
        headers = [html.unescape(h) for h in HEADER.findall(table)]
        rows: dict[int, dict[str, str]] = {}
        for col, row, text in CELL.findall(table):
            rows.setdefault(int(row), {})[headers[int(col)]] = html.unescape(re.sub(r"<[^>]+>", "", text))
        out.append([rows[k] for k in sorted(rows)])
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (tests/setup_browser.sh installs it)")
def test_rankings_and_published_table_render_in_chromium(server, tmp_path):
    tables = rendered_tables(server, tmp_path / "profile", "rank")
    paper = tables[0]  # the ranking of tier `paper` (the fixture's other tier, smoke, has its own)
    assert [(r["tier"], r["rank"], r["baseline"]) for r in paper] == [
        ("paper", "1", "xnet-sce-iou"),
        ("paper", "2", "unet-sce"),
    ]
    assert float(paper[0]["mean"]) == pytest.approx(np.mean(XNET_DICE) - 0.15)  # class `mean` of the fixture
    assert float(paper[1]["mean"]) == pytest.approx(np.mean(UNET_DICE) - 0.15)
    assert float(paper[0]["ci_low"]) < float(paper[0]["mean"]) < float(paper[0]["ci_high"])

    tables = rendered_tables(server + "?view=published", tmp_path / "profile", "verdict")
    rows = [r for t in tables for r in t if "verdict" in r]
    verdicts = {(r["method"], r["tier"]): r["verdict"] for r in rows}
    assert verdicts == {
        ("Double U-Net", ""): "open",
        ("U-Net (SCE)", "paper"): "worse",
        ("X-Net (SCE and IoU)", "paper"): "within spread",
        ("X-Net (SCE and IoU)", "smoke"): "undetermined (smoke tier)",
        ("X-Net (SCE and IoU)", ""): "open",
    }
    assert float(next(r for r in rows if r["method"] == "U-Net (SCE)")["published"]) == pytest.approx(0.9)

    tables = rendered_tables(server + "?view=claims", tmp_path / "profile", "claim")
    claims = {
        (r["claim"], r["dataset"], r["tier"]): r["verdict"]
        for t in tables
        for r in t
        if "claim" in r and "verdict" in r
    }
    assert claims[("xnet-beats-unet", "drosophila-vnc", "paper")] == "holds"
    assert claims[("unet-beats-xnet", "drosophila-vnc", "paper")] == "does not hold"
    assert claims[("unet-beats-xnet", "arabidopsis-cells", "")] == "not testable here"

    shot = tmp_path / "screenshot.png"
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:  # as above: a load that came back before the page was drawn is repeated
        browse(server, tmp_path / "profile", f"--screenshot={shot}")
        if shot.exists() and shot.stat().st_size > 40_000:  # a blank page's PNG is about 9 kB
            break
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 40_000
    if os.environ.get("SEGREPRO_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["SEGREPRO_SCREENSHOT"])


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (tests/setup_browser.sh installs it)")
def test_instance_metrics_render_for_a_dataset_with_instances(fixture_tree, server, tmp_path):
    from fixture_data import make_record, with_instances, write_record

    runs = fixture_tree["results"] / "runs"
    cells = {"background": {"dice": 0.9}, "cell": {"dice": 0.7}}
    for baseline, pq in (("guerrero2020-dsc-map", 0.55), ("guerrero2020-j4-map", 0.72)):
        rec = make_record("synthetic-cells-2d", baseline, "002", "quick", 0, 0, cells, ("background", "cell"))
        write_record(runs, with_instances(rec, pq))
    link = server + "?view=rankings&run=yours:synthetic-cells-2d__guerrero2020-j4-map__quick__f0__s0"
    tables = rendered_tables(link, tmp_path / "profile", "pq")
    rows = [r for t in tables for r in t if "pq" in r]
    assert [(r["rank"], r["baseline"]) for r in rows] == [("1", "guerrero2020-j4-map"), ("2", "guerrero2020-dsc-map")]
    assert float(rows[0]["pq"]) == pytest.approx(0.72) and float(rows[0]["sq"]) == pytest.approx(0.8)
    assert float(rows[1]["rq"]) == pytest.approx(0.55 / 0.8, abs=1e-4) and float(rows[1]["p05"]) == 0.9

    link = server + "?view=rankings&run=yours:drosophila-vnc__xnet-sce-iou__smoke__f0__s0"  # no instance labels
    tables = rendered_tables(link, tmp_path / "profile", "rank")
    assert [r["baseline"] for r in tables[0]] == ["xnet-sce-iou", "unet-sce"]  # drosophila-vnc's ranking drawn
    assert not any(rows and "pq" in rows[0] for rows in tables)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (tests/setup_browser.sh installs it)")
def test_a_second_annotator_shows_as_a_reference_line_never_ranked(fixture_tree, server, tmp_path):
    """Paper 003's "2nd expert" row: drawn under the ranking as a marked reference, not as a ranked method."""
    from fixture_data import METHODS_HEADER, PUBLISHED_HEADER, write_csv

    pkg = fixture_tree["published"] / "p003"
    row = ("003", "1", "drosophila-vnc", "2nd expert", "mitochondria", "dice", "0.88", "")
    write_csv(pkg / "published.csv", PUBLISHED_HEADER, [row])
    write_csv(pkg / "methods.csv", (*METHODS_HEADER, "reference"), [("1", "2nd expert", "", "1", "inter-rater")])
    dom, tables = rendered(server + "?view=rankings", tmp_path / "profile", "reference")
    references = [r for t in tables for r in t if "reference" in r]
    assert [(r["reference"], r["method"], r["class"]) for r in references] == [
        ("a second annotator scored this", "2nd expert", "mitochondria")
    ]
    assert float(references[0]["value"]) == pytest.approx(0.88)
    assert "Reference, not ranked" in html.unescape(re.sub(r"<[^>]+>", "", dom))
    ranked = [r for t in tables for r in t if "rank" in r]
    assert ranked and "2nd expert" not in {r["baseline"] for r in ranked}
    assert {r["baseline"] for r in ranked} == {"xnet-sce-iou", "unet-sce"}  # the fixture's runs only


@pytest.fixture
def canary():
    """A loopback HTTP server that records every path a browser asks it for."""
    import http.server
    import threading

    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", asked
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (tests/setup_browser.sh installs it)")
def test_markdown_in_a_record_makes_the_browser_fetch_nothing(fixture_tree, canary, server, tmp_path):
    import json

    from fixture_data import make_record
    from PIL import Image

    base, asked = canary
    injected = f"![x]({base}/t.png)"
    runs = fixture_tree["results"] / "runs"
    record = make_record(
        "drosophila-vnc",
        f"b{injected}",
        "001",
        "smoke",
        0,
        0,
        extra={"run_id": f"r{injected}", "predictions": [{"image": f"i{injected}", "file": "000.png"}]},
    )
    (runs / "inject.json").write_text(json.dumps(record))
    (runs / "inject").mkdir()
    Image.fromarray(np.zeros((4, 12, 3), dtype=np.uint8)).save(runs / "inject" / "000.png")
    deadline, dom = time.monotonic() + PATIENCE_S, ""
    while "Predictions" not in dom and time.monotonic() < deadline:  # until the run page has drawn its overlays
        dom = html.unescape(browse(server + "?run=yours:inject", tmp_path / "profile", "--dump-dom").stdout)
    assert "Predictions" in dom, "the run page was not drawn"
    assert asked == [], f"the page made the browser fetch {asked}"
    assert f"r{injected}" in dom and f"i{injected}" in dom  # the run's heading and the caption, as their text


@pytest.fixture
def submitted(fixture_tree, example_bundle) -> str:
    """The example method's bundle (made by ``segrepro submit``) dropped into the fixture's
    ``results/submissions/``: the ``?run=`` handle of its one run."""
    folder = fixture_tree["results"] / "submissions"
    folder.mkdir()
    shutil.copyfile(example_bundle, folder / example_bundle.name)
    return f"submitted:{example_bundle.name}/records/synthetic-2d__mylab-basicunet-dice__smoke__f0__s0"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (tests/setup_browser.sh installs it)")
def test_a_submitted_bundle_s_run_is_ranked_in_chromium(submitted, server, tmp_path):
    url = server + "?view=rankings&run=" + urllib.parse.quote(submitted)  # the run's dataset is chosen
    tables = rendered_tables(url, tmp_path / "profile", "rank")
    rows = [r for t in tables for r in t if "rank" in r]
    assert [(r["tier"], r["rank"], r["baseline"], r["source"]) for r in rows] == [
        ("smoke", "1", "mylab-basicunet-dice", "submitted")
    ]
    assert 0 <= float(rows[0]["mean"]) <= 1
