"""Instance labels in prepared datasets: checked (shape, integers, inside labelled or ignored voxels) with
one-line errors naming the file, masked like the labels, and read from a YAML card's instances: folder."""

import numpy as np
import pytest
import yaml
from PIL import Image

from segrepro.datasets import Volume, load_prepared
from segrepro.datasets.adapter import DatasetAdapter
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.generic import GenericAdapter
from segrepro.datasets.synthetic import rotating_folds
from segrepro.errors import UserError

CARD = DatasetCard(
    "inst-test", "t", "d", 2, (ClassSpec("background", (0,)), ClassSpec("cell", (1,))), "MIT", "me", instances=True
)


class Given(DatasetAdapter):
    card = CARD

    def __init__(self, volumes):
        self._volumes = volumes

    def volumes(self, raw_dir):
        return iter(self._volumes)

    def folds(self, ids):
        return rotating_folds(ids, 3)


def cells(n=3, instances=None, mask=None):
    out = []
    for i in range(n):
        inst = np.zeros((8, 8), np.int32)
        inst[1:4, 1:4], inst[4:7, 4:7] = 1, 2
        out.append(
            Volume(
                f"v{i}",
                np.random.default_rng(i).random((8, 8)).astype(np.float32),
                (inst > 0).astype(np.uint8),
                np.ones((8, 8), np.uint8) if mask is None else mask,
                source=f"file{i}.tif",
                instances=inst if instances is None else instances,
            )
        )
    return out


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        (np.zeros((8, 9), np.int32), r"file0\.tif: instance labels shape \(8, 9\) != label shape \(8, 8\)"),
        (np.full((8, 8), 0.5), r"file0\.tif: instance labels must be integers, not float64"),
        (np.full((8, 8), -1), r"file0\.tif: instance labels must be non-negative"),
        (np.ones((8, 8), np.int32), r"file0\.tif: instance labels cover 46 scored background voxels"),
    ],
)
def test_bad_instance_labels_are_one_line_errors_and_nothing_is_written(tmp_path, instances, message):
    with pytest.raises(UserError, match=message) as info:
        Given(cells(instances=instances)).prepare(tmp_path / "raw", tmp_path / "p")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "p").exists()


def test_instances_in_ignored_voxels_are_allowed_and_masked_out(tmp_path):
    mask = np.ones((8, 8), np.uint8)
    mask[0:2, :] = 0  # the ignored band holds instance 1's top row and some background
    vols = cells(mask=mask)
    for v in vols:
        v.instances[0, 0:3] = 1
        v.label[0, 0:3] = 0  # labelled background there, but ignored: consistent
    data = load_prepared("inst-test", Given(vols).prepare(tmp_path / "raw", tmp_path / "p"))
    inst = data.load_instances("v0")
    assert (inst[mask == 0] == 0).all() and set(np.unique(inst)) == {0, 1, 2}
    assert data.has_instances


def test_dataset_without_instances_loads_none(prepared_2d):
    data = load_prepared("synthetic-2d", prepared_2d)
    assert not data.has_instances and data.load_instances(data.meta["volumes"][0]) is None


def test_generic_card_instances_folder(tmp_path):
    root = tmp_path / "user"
    spec = {
        "name": "my-instances",
        "spatial_dims": 2,
        "images": "images",
        "labels": "labels",
        "instances": "instances",
        "classes": [{"name": "background", "values": [0]}, {"name": "cell", "values": [255]}],
        "split": {"folds": 3},
    }
    for i in range(3):
        inst = np.zeros((16, 16), np.uint16)
        inst[2:8, 2:8], inst[2:8, 8:14] = 3, 4 + i
        for sub, arr in (("images", (inst * 20).astype(np.uint8)), ("labels", np.where(inst > 0, 255, 0))):
            (root / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr.astype(np.uint8)).save(root / sub / f"s{i}.png")
        (root / "instances").mkdir(exist_ok=True)
        Image.fromarray(inst).save(root / "instances" / f"s{i}.png")
    (root / "card.yaml").write_text(yaml.safe_dump(spec))
    adapter = GenericAdapter.from_yaml(root / "card.yaml")
    assert adapter.card.instances
    data = load_prepared("my-instances", adapter.prepare(root, tmp_path / "p"))
    assert set(np.unique(data.load_instances("s2"))) == {0, 3, 6}
    (root / "instances" / "s1.png").unlink()
    with pytest.raises(UserError, match=r"instances/s1: missing instance labels"):
        GenericAdapter.from_yaml(root / "card.yaml").prepare(root, tmp_path / "q")
