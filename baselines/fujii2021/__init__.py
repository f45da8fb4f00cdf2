"""Paper 001 (Fujii et al. 2021, X-Net): four architectures, three loss combinations, eight entries.

``entries`` registers the eight rows of the paper's tables; ``published.csv`` and ``methods.csv``
hold tables 1 and 2 and the mapping of their rows to entry ids.
"""
