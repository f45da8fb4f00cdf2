"""segrepro leaderboard (Streamlit). Start with ``segrepro leaderboard``.

Reads ``results/leaderboard.csv`` and ``results/per_class.csv`` (written by ``segrepro
aggregate``); the results folder comes from ``SEGREPRO_RESULTS_DIR`` (default ``results``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from segrepro import paths


@st.cache_data(show_spinner=False)
def load_table(path: str, mtime: float) -> pd.DataFrame:
    return pd.read_csv(path)


def read(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return load_table(str(path), path.stat().st_mtime)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        st.error(f"{path}: cannot be read as CSV ({exc})")
        return None


def main() -> None:
    st.set_page_config(page_title="segrepro leaderboard", layout="wide")
    st.title("segrepro leaderboard")
    st.caption("Class-imbalanced microscopy segmentation, reproduced under one protocol.")
    results = paths.results_dir()
    board = read(results / "leaderboard.csv")
    if board is None:
        st.info(f"No results yet in {results}. Run `dvc repro` or `segrepro run` then `segrepro aggregate`.")
        return
    datasets = sorted(board["dataset"].unique())
    dataset = st.selectbox("Dataset", datasets)
    view = board[board["dataset"] == dataset].sort_values("dice_mean", ascending=False)
    st.subheader("Ranking (canonical convention: pooled over test images, mean over foreground classes)")
    st.caption("Tiers differ in training budget: compare rows of the same tier.")
    st.dataframe(view, hide_index=True, use_container_width=True)
    per_class = read(results / "per_class.csv")
    if per_class is not None:
        sub = per_class[(per_class["dataset"] == dataset) & (per_class["metric"] == "dice")]
        if not sub.empty:
            st.subheader("Per-class Dice")
            fig = px.bar(sub, x="class", y="mean", error_y="std", color="baseline", barmode="group", facet_col="tier")
            st.plotly_chart(fig, use_container_width=True)


main()
