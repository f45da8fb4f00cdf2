"""Paper 003 (Meyer et al. 2021, ISBI): multi-class organelle segmentation of FIB-SEM images with a U-Net
and an EfficientUNet, a weighted dice loss, optional grain-filter input channels ("+F"), class-centred patch
sampling and centre-tile sliding-window prediction."""
