"""The one-class-against-the-rest view of a prepared dataset (``stress --foreground``)."""

import re

import numpy as np
import pytest

from segrepro.datasets import load_prepared
from segrepro.datasets.one_vs_rest import REST, one_vs_rest
from segrepro.errors import UserError


def test_the_view_relabels_one_class_against_all_the_others(prepared_2d):
    data = load_prepared("synthetic-2d", prepared_2d)
    cls = data.class_names[2]
    view = one_vs_rest(data, cls)
    assert view.class_names == [REST, cls] and view.n_classes == 2
    assert view.data_hash != data.data_hash and cls in view.data_hash
    vid = data.fold(0).train[0]
    image, label, mask = data.load(vid)
    v_image, v_label, v_mask = view.load(vid)
    np.testing.assert_array_equal(v_image, image)
    np.testing.assert_array_equal(v_mask, mask)
    np.testing.assert_array_equal(v_label, (np.asarray(label) == 2).astype(np.uint8))
    assert 0 < v_label.sum() < v_label.size  # the class is there, and so is the rest
    assert view.folds == data.folds and view.load_instances(vid) is None


@pytest.mark.parametrize(
    ("name", "words"), [("golgi", "has no class 'golgi'; its classes are"), ("background", "class 0 (its background)")]
)
def test_unknown_class_or_the_background_is_one_line(prepared_2d, name, words):
    data = load_prepared("synthetic-2d", prepared_2d)
    if name == "background":
        name = data.class_names[0]
    with pytest.raises(UserError, match=re.escape(words)) as err:
        one_vs_rest(data, name)
    assert len(str(err.value).splitlines()) == 1
