"""The leaderboard page through Streamlit's own testing API, on fixture files written by the tests."""

import base64
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from fixture_data import UNET_DICE, XNET_DICE, make_record, write_csv, write_record
from markdown_it import MarkdownIt
from PIL import Image
from streamlit.testing.v1 import AppTest

MARKDOWN = MarkdownIt("commonmark")
"""The CommonMark renderer: what the page's Markdown turns into, to check what a reader (and a browser) gets."""


def shown(markdown: str) -> str:
    """The text a reader sees for one Markdown body."""
    return html.unescape(re.sub(r"<[^>]+>", "", MARKDOWN.render(markdown))).strip()


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
    at = run_app({"view": "per-class"})
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


@pytest.mark.parametrize(("finished", "words"), [("2026-01-02T03:04:05+00:00", ", 1234 s."), (None, ", not finished")])
def test_stress_caption_says_whether_the_sweep_finished(fixture_tree, finished, words):
    """``segrepro stress`` writes its stress.json first with ``finished: null``: an interrupted sweep's table
    (kept for ``--resume``) must not read as a whole one."""
    prov = make_record("synthetic-2d", "unet-ce", "x", "quick", 0, 0)["provenance"]
    prov |= {"command": "segrepro stress --dataset synthetic-2d", "finished": finished, "wall_time_s": 1234.0}
    folder = fixture_tree["results"] / "stress" / "synthetic-2d"
    (folder / "stress.json").write_text(json.dumps({"config": {}, "provenance": prov}))
    captions = [shown(c.value) for c in run_app({"view": "stress"}).tabs[TABS.index("stress")].caption]
    (made,) = [c for c in captions if "segrepro stress --dataset synthetic-2d" in c]
    assert words in made


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
    errors = " ".join(shown(e.value) for e in at.error)
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
    assert "x.json" in shown(at.error[0].value) and "dvc repro" in at.info[0].value


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


INJECTED = "![x](http://127.0.0.1:9/t.png)"
"""Markdown that would make every viewer's browser fetch that URL if rendered as Markdown."""


def markdown_bodies(at: AppTest) -> list[str]:
    """Every Markdown body the page sends: texts, alerts, headings, widget labels and image captions."""
    kinds = ("markdown", "caption", "error", "warning", "info", "title", "header", "subheader")
    bodies = [e.value for kind in kinds for e in at.get(kind)]
    widgets = ("selectbox", "multiselect", "text_input")
    bodies += [w.label for kind in widgets for w in at.get(kind)]
    bodies += [img.caption for e in at.get("image") for img in e.proto.imgs]
    return bodies


def test_values_from_files_render_as_text_never_markdown(fixture_tree):
    runs = fixture_tree["results"] / "runs"
    record = make_record(
        f"d{INJECTED}",
        f"b{INJECTED}",
        f"p{INJECTED}",
        "smoke",
        0,
        0,
        classes=("background", f"c{INJECTED}"),
        extra={"run_id": f"r{INJECTED}", "predictions": [{"image": f"i{INJECTED}", "file": "000.png"}]},
    )
    record["provenance"]["command"] = f"`{INJECTED}` <img src=http://127.0.0.1:9/h.png>"
    record["provenance"]["started"] = "2099-01-01T00:00:00+00:00"  # the newest run: the page opens on its dataset
    (runs / "inject.json").write_text(json.dumps(record))
    (runs / "inject").mkdir()
    Image.fromarray(np.zeros((4, 12, 3), dtype=np.uint8)).save(runs / "inject" / "000.png")
    (runs / "broken[x](http:.json").write_text("{")
    at = run_app({"run": "yours:inject"})
    ranking = run_app({"view": "rankings"})  # only the open tab is drawn: the ranking is another page
    bodies = markdown_bodies(at) + markdown_bodies(ranking)
    texts = [shown(b) for b in bodies]
    assert f"r{INJECTED}" in texts  # the run's heading: its id, as text
    assert f"i{INJECTED}" in texts  # the overlay's caption
    assert any(f"Ranking on d{INJECTED}" in t for t in texts)  # the ranking's heading
    assert any("broken[x](http:.json" in t for t in texts)  # the problem naming the file
    for body in bodies:
        rendered = MARKDOWN.render(body)
        assert "<img" not in rendered and not re.search(r'(src|href)="[^"]*127\.0\.0\.1:9', rendered), body


def test_missing_values_show_a_dash_never_none(fixture_tree):
    at = run_app({"view": "published"})
    assert frame(at, "pvr-table")["tier"].isna().any()  # the open rows have no tier: shown as the placeholder
    pages = [at] + [run_app({"view": v}) for v in ("rankings", "per-class", "runs")]  # one drawn tab a page
    tables = [d for page in pages for tab in page.tabs for d in tab.dataframe]
    assert len(tables) >= 6 and {d.proto.placeholder for d in tables} == {"—"}


def test_bad_overlays_are_named_and_files_outside_the_run_are_never_opened(fixture_tree, tmp_path, monkeypatch):
    runs = fixture_tree["results"] / "runs"
    files = ["000_ok.png", "001_corrupt.png", "002_link.png"]
    record = make_record(
        "drosophila-vnc",
        "xnet-sce-iou",
        "001",
        "smoke",
        1,
        3,
        extra={"predictions": [{"image": f, "file": f} for f in files]},
    )
    write_record(runs, record)
    folder = runs / record["run_id"]
    folder.mkdir()
    Image.fromarray(np.zeros((8, 28, 3), dtype=np.uint8)).save(folder / files[0])
    (folder / files[1]).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    outside = tmp_path / "outside.png"
    Image.fromarray(np.zeros((8, 28, 3), dtype=np.uint8)).save(outside)
    (folder / files[2]).symlink_to(outside)
    opened = []
    real_open = Image.open

    def recording_open(fp, *args, **kwargs):
        if isinstance(fp, (str, Path)):
            opened.append(Path(fp).resolve())
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", recording_open)
    at = run_app({"run": f"yours:{record['run_id']}"})
    errors = [shown(e.value) for e in at.tabs[TABS.index("runs")].error]
    assert any("001_corrupt.png: not a readable PNG" in e for e in errors), errors
    assert any("002_link.png: points outside the run's folder; not opened" in e for e in errors), errors
    assert outside.resolve() not in opened and (folder / files[0]).resolve() in opened
    assert [e.type for e in at.tabs[TABS.index("runs")]].count("image") == 1  # the good one still shows


def test_an_unexpected_error_in_a_view_is_one_line_without_server_paths(fixture_tree, monkeypatch):
    from segrepro.leaderboard import views

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/private/segrepro/views.py line 1")

    monkeypatch.setattr(views, "rankings", broken)
    at = run_app()
    assert [shown(e.value) for e in at.error] == [
        "The rankings view could not be drawn (RuntimeError); the server's log has the details."
    ]
    assert not any("/srv/private" in b for b in markdown_bodies(at))
    assert len(frame(run_app({"view": "per-class"}), "per-class-table")) > 0  # the other views still draw


def test_a_huge_record_is_capped_on_the_run_page(fixture_tree):
    from segrepro.leaderboard.views import CURVE_POINTS, ITEM_LIMIT

    record = make_record("drosophila-vnc", "xnet-sce-iou", "001", "smoke", 1, 3)
    record["recipe"] = {
        "schedule": list(range(20_000)),
        "note": "x" * 100_000,
        "deep": {"a": {"a": {"a": {"a": {"a": {"a": 1}}}}}},
    }
    record["curves"] = {"train_loss": [[i, 1.0 / (i + 1)] for i in range(5_000)]}
    record["provenance"]["versions"] = {f"package{i}": "1.0" for i in range(500)}
    write_record(fixture_tree["results"] / "runs", record)
    at = run_app({"run": f"yours:{record['run_id']}"})
    recipe = at.json[0].value
    assert len(recipe) < 20_000
    assert "19,950 more items not shown" in recipe and "99,700 more characters not shown" in recipe
    assert "nested deeper than" in recipe
    prov = frame(at, "provenance")
    assert len(prov) <= 25 + ITEM_LIMIT and "450 more not shown" in prov["value"].tolist()
    chart = next(c for c in at.get("plotly_chart") if c.key == "curves-chart")
    x = json.loads(chart.proto.spec)["data"][0]["x"]
    n_points = len(x) if isinstance(x, list) else np.frombuffer(base64.b64decode(x["bdata"]), x["dtype"]).size
    assert n_points == CURVE_POINTS  # of 5,000, evenly spaced


def test_with_a_secret_the_page_shows_nothing_until_it_is_given(fixture_tree, monkeypatch):
    monkeypatch.setenv("SEGREPRO_LEADERBOARD_SECRET", "s3cret")
    at = run_app()
    assert not [d for tab in at.tabs for d in tab.dataframe] and not at.tabs and not at.sidebar.selectbox
    at.text_input(key="secret").input("wrong").run()
    assert at.error[0].value == "That is not the secret." and not at.tabs
    at.text_input(key="secret").input("s3cret").run()
    assert len(frame(at, "rank-paper")) == 2 and not at.error


def test_chart_labels_from_files_are_text_not_plotly_markup(fixture_tree):
    link = '<a href="http://127.0.0.1:9/">c</a>'
    record = make_record("drosophila-vnc", "<b>net</b>", "001", "smoke", 0, 0, classes=("background", link))
    (fixture_tree["results"] / "runs" / "markup.json").write_text(json.dumps(record))
    at = run_app({"view": "per-class"})
    chart = next(c for c in at.get("plotly_chart") if c.key == "per-class-chart")
    spec = json.dumps(json.loads(chart.proto.spec))  # Plotly's JSON writes < as \\u003c: decoded here
    assert "&lt;b&gt;net&lt;/b&gt;" in spec and "&lt;a href=" in spec
    assert "<b>net" not in spec and "<a href" not in spec


def test_stale_runs_are_marked_and_left_out_of_rankings_unless_asked_for(fixture_tree):
    """``segrepro aggregate`` stores the current recipe hashes; a reference run made by an older recipe is
    stale: listed under Runs as such, left out of the ranking until the sidebar box is ticked."""
    from segrepro.aggregate import aggregate

    reference = fixture_tree["results"] / "reference"
    old = make_record("drosophila-vnc", "xnet-sce-iou", "001", "paper", 3, 0, extra={"recipe_hash": "0" * 16})
    write_record(reference / "runs", old)
    aggregate(reference / "runs", reference, recipes={("xnet-sce-iou", "paper"): "1" * 16})
    at = run_app({"view": "rankings"})
    assert "1 stale run(s) are left out" in at.warning[0].value
    assert frame(at, "rank-paper").set_index("baseline").loc["xnet-sce-iou", "runs"] == 6  # not the 7th, stale
    at.sidebar.checkbox(key="stale").check().run()
    assert frame(at, "rank-paper").set_index("baseline").loc["xnet-sce-iou", "runs"] == 7
    runs = frame(run_app({"view": "runs"}), "runs-table").set_index("run_id")
    assert runs.loc[old["run_id"], "recipe_state"] == "stale" and bool(runs.loc[old["run_id"], "stale"])
    assert set(runs.drop(index=old["run_id"])["recipe_state"]) == {"recipe unknown"}  # records without a hash


def test_only_the_open_tab_is_computed(fixture_tree):
    """The first open renders one view (a tab switch reruns the page for the next), which keeps it fast."""
    at = run_app()
    assert frames(at, "rankings") and not frames(at, "per-class") and not frames(at, "published")
    assert not frames(at, "runs")


def test_the_page_opens_where_your_newest_runs_are(fixture_tree):
    record = make_record("synthetic-2d", "unet-sce", "001", "smoke", 0, 0)
    record["provenance"]["started"] = "2026-11-24T09:00:00+00:00"  # after the fixture's other runs
    write_record(fixture_tree["results"] / "runs", record)
    at = run_app()
    assert at.sidebar.selectbox(key="dataset").value == "synthetic-2d"
    assert frames(at, "rankings")[0]["baseline"].tolist() == ["unet-sce"]
