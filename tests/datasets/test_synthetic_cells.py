"""synthetic-cells-2d/-3d: seeded touching cells whose density, touching fraction and size spread follow
their parameters; prepared with instance labels that a run can load."""

import numpy as np
import pytest

from segrepro.datasets import get_dataset, load_prepared
from segrepro.datasets.synthetic_cells import generate_cells


def touching_cells(instances: np.ndarray) -> int:
    """How many cells share a border (4- or 6-connected) with another cell."""
    touching = set()
    for axis in range(instances.ndim):
        a = np.moveaxis(instances, axis, 0)
        x, y = a[:-1], a[1:]
        pairs = (x > 0) & (y > 0) & (x != y)
        touching |= set(x[pairs].tolist()) | set(y[pairs].tolist())
    return len(touching)


def test_same_seed_same_arrays_and_the_label_is_any_cell():
    a, b, c = (generate_cells((64, 64), seed=s) for s in (3, 3, 4))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])
    image, instances, label = a
    np.testing.assert_array_equal(label, instances > 0)
    assert set(np.unique(instances)) == set(range(instances.max() + 1))  # ids 1..N, no holes
    assert image[label == 1].mean() > image[label == 0].mean() + 0.3


def test_density_touching_and_size_spread_follow_their_parameters():
    shape = (160, 160)
    sparse = generate_cells(shape, 1, density=0.15)[1]
    dense = generate_cells(shape, 1, density=0.5)[1]
    assert (dense > 0).mean() > 2 * (sparse > 0).mean()
    lone = generate_cells(shape, 2, density=0.2, touching=0.0)[1]
    clustered = generate_cells(shape, 2, density=0.2, touching=1.0)[1]
    assert touching_cells(clustered) / clustered.max() > 0.9 > 0.5 > touching_cells(lone) / lone.max()

    def size_cv(inst):
        sizes = np.bincount(inst.ravel())[1:]
        return sizes.std() / sizes.mean()

    narrow = generate_cells(shape, 5, density=0.2, touching=0.0, size_spread=0.02)[1]
    wide = generate_cells(shape, 5, density=0.2, touching=0.0, size_spread=0.4)[1]
    assert size_cv(wide) > 2 * size_cv(narrow)


def test_three_d_cells_touch_in_clusters():
    _, instances, _ = generate_cells((24, 40, 40), seed=0, radius=6, touching=1.0)
    assert instances.max() >= 5 and touching_cells(instances) == instances.max()
    _, apart, _ = generate_cells((24, 40, 40), seed=0, radius=4, density=0.1, touching=0.0)
    assert touching_cells(apart) <= apart.max() // 2


@pytest.mark.parametrize("name", ["synthetic-cells-2d", "synthetic-cells-3d"])
def test_prepared_with_instances(tmp_path, name):
    adapter = get_dataset(name)
    assert adapter.card.instances and adapter.card.class_names == ["background", "cell"]
    data = load_prepared(name, adapter.prepare(tmp_path / "raw", tmp_path / "p"))
    assert data.has_instances and data.spatial_dims == adapter.card.spatial_dims
    vid = data.fold(0).test[0]
    _, label, _ = data.load(vid)
    instances = data.load_instances(vid)
    assert instances.dtype == np.int32 and instances.shape == label.shape
    np.testing.assert_array_equal(label, instances > 0)
