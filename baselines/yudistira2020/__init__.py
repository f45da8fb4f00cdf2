"""Paper 000 — Yudistira et al. 2020, "Prediction of sequential organelles localization under
imbalance using a balanced deep U-Net" (Sci. Rep. 10:2626): table 1's U-Net with seven losses.

Each loss is its own entry with the same network, sigmoid multi-label outputs and the paper's
decision thresholds (0.8 for the dice family, 0.5 for MSE), scored with the paper's convention
``yudistira2020``. Reconstructions (METHODS.md 000; listed in each card, each a loss parameter):
the CDL background term (``complement``), the RWCDL weights (``normalise``), the D + BCE weighting
and the focal-dice form; the paper tier's batch size.

Tables 2-6 are in ``published.csv`` (values as printed), mapped to these entries by ``methods.csv``:
- ``method`` is the extracted text of the printed name (``LMSE`` is L with subscript MSE; table 3
  prints ``RWCD``); ``class`` uses the dataset card's names (the paper's "Cytoplasma" is
  ``cytoplasm``) and ``overall`` for the paper's overall row, which is not the mean over classes
  (table 2, L_MSE: overall precision 0.8963, class mean 0.3593); table 5 prints overall scores only.
- ``metric``: the printed F1 score is ``dice`` (the same number for one class vs the rest), AUC is ``auc``.
- Table 6 has one training set per printed row: its rows are tables ``6/<#training instances>``
  (``6/597`` ... ``6/3107``); the class-ratio columns are rows of method ``Class Ratios`` with metric
  ``class_ratio`` (a printed "—" has no row), mapped to no baseline.
"""
