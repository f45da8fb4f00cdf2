"""The Streamlit leaderboard: reads result files only, never runs anything from them."""
