"""The leaderboard page through Streamlit's own testing API, on fixture files written by the tests."""

import json
from pathlib import Path

import numpy as np
import pytest
from fixture_data import UNET_DICE, XNET_DICE, make_record, write_csv, write_record
from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "leaderboard" / "app.py")


def run_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


TABS = ["rankings", "per-class", "published", "stress", "claims", "runs"]
FRAMES = {  # (tab, position among the tab's tables): Streamlit's testing API has no keys for tables
    "rank-paper": ("rankings", 0),
    "rank-smoke": ("rankings", 1),
    "per-class-table": ("per-class", 0),
    "pvr-table": ("published", 0),
    "open-table": ("published", 1),
    "stress-table": ("stress", 0),
    "claims-table": ("claims", 0),
    "claims-quoted": ("claims", 1),
    "claims-comparisons": ("claims", 2),
    "runs-table": ("runs", 0),
    "provenance": ("runs", 1),
}


def frames(at: AppTest, tab: str) -> list:
    return [d.value for d in at.tabs[TABS.index(tab)].dataframe]


def frame(at: AppTest, name: str):
    tab, position = FRAMES[name]
    found = frames(at, tab)
    assert len(found) > position, f"no table {name!r}: the {tab} tab has {len(found)}"
    return found[position]


def test_rankings_per_tier_with_ci_and_export(fixture_tree):
    at = run_app()
    assert at.sidebar.selectbox(key="dataset").value == "drosophila-vnc"
    assert at.sidebar.selectbox(key="metric").value == "dice"
    paper = frame(at, "rank-paper").set_index("baseline")
    assert paper.loc["xnet-sce-iou", "rank"] == 1 and paper.loc["unet-sce", "rank"] == 2
    assert paper.loc["xnet-sce-iou", "mean"] == pytest.approx(np.mean(XNET_DICE) - 0.15)  # class "mean"
    assert frame(at, "rank-smoke")["source"].tolist() == ["yours"]
    assert "one ranking per tier" in at.warning[0].value
    assert at.get("download_button")[0].label.startswith("Export this table as CSV (3 rows)")
    at.sidebar.selectbox(key="class").select("mitochondria").run()
    assert frame(at, "rank-paper").set_index("baseline").loc["xnet-sce-iou", "mean"] == pytest.approx(
        np.mean(XNET_DICE)
    )
    at.sidebar.multiselect(key="tiers").select("paper").run()
    assert not at.warning and len(frames(at, "rankings")) == 1


def test_per_class_chart_and_table(fixture_tree):
    at = run_app()
    assert [c.key for c in at.get("plotly_chart")].count("per-class-chart") == 1
    table = frame(at, "per-class-table")
    assert table["class"].iloc[0] == "synapse"  # rarest first
    assert set(table["baseline"]) == {"xnet-sce-iou", "unet-sce"}


def test_reproduced_vs_published_and_open_reproductions(fixture_tree):
    at = run_app({"view": "published"})
    table = frame(at, "pvr-table")
    by = {(r.method, r.tier if isinstance(r.tier, str) else None): r.verdict for r in table.itertuples()}
    assert by[("X-Net (SCE and IoU)", "paper")] == "within spread"
    assert by[("U-Net (SCE)", "paper")] == "worse"
    assert by[("X-Net (SCE and IoU)", "smoke")] == "undetermined (smoke tier)"
    assert set(frame(at, "open-table")["method"]) == {"Double U-Net", "X-Net (SCE and IoU)"}
    at.multiselect(key="verdicts").set_value(["worse"]).run()
    assert frame(at, "pvr-table")["method"].tolist() == ["U-Net (SCE)"]


def test_claims_view_gives_each_verdict(fixture_tree):
    at = run_app({"view": "claims"})
    table = frame(at, "claims-table")
    got = {(r.claim, r.dataset, r.tier): r.verdict for r in table.itertuples()}
    assert got == {
        ("xnet-beats-unet", "drosophila-vnc", "paper"): "holds",
        ("xnet-beats-unet", "drosophila-vnc", "smoke"): "undetermined",
        ("unet-beats-xnet", "drosophila-vnc", "paper"): "does not hold",
        ("unet-beats-xnet", "drosophila-vnc", "smoke"): "undetermined",
        ("unet-beats-xnet", "arabidopsis-cells", ""): "not testable here",
    }
    held = table[table["verdict"] == "holds"].iloc[0]
    assert held["n_pairs"] == 6 and held["p_value"] == pytest.approx(1 / 64)
    assert held["mean_difference"] == pytest.approx(np.mean(XNET_DICE) - np.mean(UNET_DICE))
    assert set(frame(at, "claims-quoted")["claim"]) == {"xnet-beats-unet", "unet-beats-xnet"}
    at.sidebar.multiselect(key="tiers").select("paper").run()
    assert set(frame(at, "claims-table")["tier"]) == {"paper", ""}  # not testable rows have no tier


def test_published_chart_and_a_table_that_fits(fixture_tree):
    at = run_app({"view": "published"})
    assert "pvr-chart" in [c.key for c in at.get("plotly_chart")]
    spec = json.loads(next(c for c in at.get("plotly_chart") if c.key == "pvr-chart").proto.spec)
    kinds = {t["legendgroup"].split(", ")[-1] for t in spec["data"]}
    assert {"published", "reproduced"} <= kinds
    caption = at.tabs[TABS.index("published")].caption[0].value
    assert caption.startswith("Filters applied here: paper, tier and runs;")


def test_stress_curves(fixture_tree):
    at = run_app({"view": "stress"})
    assert "stress-chart" in [c.key for c in at.get("plotly_chart")]
    captions = [c.value for c in at.tabs[TABS.index("stress")].caption]
    assert any("no stress.json beside its table" in c for c in captions)
    assert captions[0].startswith("Filters applied here: runs;")
    curve = frame(at, "stress-table")
    assert set(curve["baseline"]) == {"xnet-sce-iou", "unet-sce"} and curve["ratio"].min() == 0.001


def stress_spec(at: AppTest) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == "stress-chart").proto.spec)


def test_stress_chart_writes_ratios_as_the_cli_and_bands_over_seeds(fixture_tree):
    spec = stress_spec(run_app({"view": "stress"}))
    assert spec["layout"]["xaxis"]["ticktext"] == ["1:1000", "1:100", "1:10"]
    lines = [t for t in spec["data"] if t.get("mode") == "lines+markers"]
    assert len({t["line"]["color"] for t in lines}) == len(lines) == 2  # one colour per baseline
    assert not any(t.get("fill") for t in spec["data"])  # one seed: no band
    path = fixture_tree["results"] / "stress" / "synthetic-2d" / "stress.csv"
    seeds = "".join(f"{r},{r},unet-sce,mitochondria,balanced_accuracy,{v}\n" for r, v in ((0.001, 0.55), (0.01, 0.7)))
    path.write_text(path.read_text() + seeds)  # a second seed of unet-sce at two ratios
    bands = [t for t in stress_spec(run_app({"view": "stress"}))["data"] if t.get("fill") == "toself"]
    assert len(bands) == 1 and len(bands[0]["x"]) == 4  # the two repeated ratios, there and back


def test_run_page_with_provenance_curves_and_overlays(fixture_tree):
    runs = fixture_tree["results"] / "runs"
    record = make_record(
        "drosophila-vnc",
        "xnet-sce-iou",
        "001",
        "smoke",
        1,
        3,
        extra={"predictions": [{"image": "img0", "file": "000_img0.png"}]},
    )
    write_record(runs, record)
    (runs / record["run_id"]).mkdir()
    Image.fromarray(np.zeros((8, 28, 3), dtype=np.uint8)).save(runs / record["run_id"] / "000_img0.png")
    at = run_app({"run": f"yours:{record['run_id']}"})
    assert at.selectbox(key="run").value == f"yours:{record['run_id']}"
    prov = frame(at, "provenance").set_index("field")["value"]
    assert prov["seed"] == "3" and prov["git commit"] == record["provenance"]["git_commit"]
    assert "curves-chart" in [c.key for c in at.get("plotly_chart")]
    assert [e.type for e in at.tabs[TABS.index("runs")]].count("image") == 1
    assert frame(at, "runs-table")["page"].str.startswith("?run=").all()


def test_a_link_to_a_run_opens_it_whatever_its_dataset(fixture_tree):
    record = make_record("synthetic-2d", "unet-ce", "segrepro", "smoke", 0, 0)
    write_record(fixture_tree["results"] / "runs", record)
    at = run_app({"run": f"yours:{record['run_id']}"})
    assert at.sidebar.selectbox(key="dataset").value == "synthetic-2d"  # not the first dataset, drosophila-vnc
    assert at.selectbox(key="run").value == f"yours:{record['run_id']}"
    assert frame(at, "provenance").set_index("field")["value"]["dataset"] == "synthetic-2d"


def test_stress_view_follows_the_sidebar_metric_and_class(fixture_tree):
    path = fixture_tree["results"] / "stress" / "drosophila-vnc" / "stress.csv"
    rows = [(r, r, "unet", c, m, 0.5) for r in (0.01, 0.1) for c in ("membrane", "synapse") for m in ("dice", "iou")]
    write_csv(path, ("ratio", "achieved_ratio", "baseline", "class", "metric", "value"), rows)
    at = run_app({"view": "stress"})
    assert at.selectbox(key="stress-dataset").value == "drosophila-vnc"
    assert (
        at.selectbox(key="stress-metric:dice").value == "dice"
        and at.selectbox(key="stress-class:mean").value == "membrane"
    )
    at.sidebar.selectbox(key="class").select("synapse").run()
    assert at.selectbox(key="stress-class:synapse").value == "synapse"
    assert set(frame(at, "stress-table")["mean"]) == {0.5}


def test_malformed_files_are_named_and_the_page_still_renders(fixture_tree):
    runs = fixture_tree["results"] / "runs"
    (runs / "broken.json").write_text("{not json")
    bad = make_record("drosophila-vnc", "xnet-sce-iou", "001", "smoke", 2, 0)
    del bad["provenance"]
    (runs / "no-provenance.json").write_text(json.dumps(bad))
    write_csv(fixture_tree["published"] / "p9" / "published.csv", ("paper", "value"), [("9", "1")])
    at = run_app()
    errors = " ".join(e.value for e in at.error)
    assert "broken.json" in errors and "not readable JSON" in errors
    assert "no-provenance.json" in errors and "'provenance' is a required property" in errors
    assert "p9/published.csv" in errors and "wrong columns" in errors
    assert frame(at, "rank-paper")["baseline"].tolist() == ["xnet-sce-iou", "unet-sce"]


def test_only_malformed_files_still_explained(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "x.json").write_text("[]")
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("SEGREPRO_PUBLISHED_DIR", str(tmp_path / "none"))
    at = run_app()
    assert "x.json" in at.error[0].value and "dvc repro" in at.info[0].value


def test_empty_results_folder_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("SEGREPRO_PUBLISHED_DIR", str(tmp_path / "none"))
    at = run_app()
    assert "dvc repro" in at.info[0].value
    assert any("How to submit a method" in h.value for h in at.header)


def test_a_new_record_shows_on_the_next_run(fixture_tree):
    at = run_app()
    assert len(frame(at, "rank-paper")) == 2
    write_record(fixture_tree["results"] / "runs", make_record("drosophila-vnc", "newnet", "002", "paper", 0, 0))
    at.run()
    assert "newnet" in frame(at, "rank-paper")["baseline"].tolist()


def test_the_page_opens_where_your_newest_runs_are(fixture_tree):
    record = make_record("synthetic-2d", "unet-sce", "001", "smoke", 0, 0)
    record["provenance"]["started"] = "2026-11-24T09:00:00+00:00"  # after the fixture's other runs
    write_record(fixture_tree["results"] / "runs", record)
    at = run_app()
    assert at.sidebar.selectbox(key="dataset").value == "synthetic-2d"
    assert frames(at, "rankings")[0]["baseline"].tolist() == ["unet-sce"]
