"""Paper 002 (Guerrero-Peña et al. 2020, J regularization): instance segmentation of touching cells.

``targets`` turns instance labels into background / cell / touching / gap; ``losses`` holds the JC loss
and its rivals (BWM, W3); ``postprocess`` the MAP and watershed hooks; ``entries`` registers the eight
rows of table 1 (table 2's J3/J4 rows are the same entries on other datasets). ``published.csv`` and
``methods.csv`` hold tables 1 and 2 and map their rows to entry ids.
"""
