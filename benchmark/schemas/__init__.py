"""JSON schemas of the files segrepro writes and reads (run records, published and methods rows,
stress rows); a package so that they install with it, read via ``importlib.resources``."""
