"""Paper 004 (Žerovnik Mekuč et al. 2020, UroCell): HighRes3DNet / HighRes3DZMNet, the rival 3-D networks,
extended AGCWD, balanced windows, segmentation masks, binary classifiers and transfer learning, as the 13
rows of table 1 (see ``entries.py``)."""
