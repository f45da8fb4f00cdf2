"""The leaderboard page through Streamlit's own testing API."""

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "leaderboard" / "app.py")


def test_shows_aggregated_table(tmp_path, monkeypatch):
    pd.DataFrame(
        [
            {
                "dataset": "synthetic-2d",
                "baseline": "unet-ce",
                "paper": "segrepro",
                "tier": "smoke",
                "n_runs": 1,
                "n_failed": 0,
                "dice_mean": 0.42,
                "dice_std": None,
                "run_ids": "r1",
            }
        ]
    ).to_csv(tmp_path / "leaderboard.csv", index=False)
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table.loc[0, "baseline"] == "unet-ce" and table.loc[0, "dice_mean"] == 0.42


def test_empty_results_folder_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "dvc repro" in at.info[0].value
