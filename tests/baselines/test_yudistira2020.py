"""Paper 000 entries: table 1's network (parameter counts, every kernel shape) and each loss
against a value worked out by hand on a tiny input, plus the validity mask."""

import csv
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from segrepro.baselines import BASELINES, get_baseline
from segrepro.baselines.yudistira2020 import losses as L
from segrepro.baselines.yudistira2020.network import BalancedUNet
from segrepro.datasets import get_dataset
from segrepro.leaderboard.data import Problem, read_csv_rows
from segrepro.metrics.conventions import get_convention

# Table 1 as printed: (layer, K, O, I). Transposed convs store weights as (I, O, K, K) in torch.
TABLE1 = [
    ("conv1", 3, 64, 1),
    ("conv2", 4, 128, 64),
    ("conv3", 4, 256, 128),
    ("conv4", 4, 512, 256),
    ("conv5", 4, 512, 512),
    ("conv6", 4, 512, 512),
    ("conv7", 4, 512, 512),
    ("conv8", 4, 512, 512),
    ("deconv1", 4, 512, 512),
    ("deconv2", 4, 512, 1024),
    ("deconv3", 4, 512, 1024),
    ("deconv4", 4, 512, 1024),
    ("deconv5", 4, 256, 1024),
    ("deconv6", 4, 128, 512),
    ("deconv7", 4, 64, 256),
    ("conv", 3, 5, 128),
]


@pytest.fixture(scope="module")
def full_model():
    return BalancedUNet(1, 5, channel_divisor=1)


def test_full_width_parameter_counts(full_model):
    convs = [m for m in full_model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    conv_params = sum(p.numel() for m in convs for p in m.parameters())
    assert conv_params == 54_406_725
    assert sum(p.numel() for p in full_model.parameters()) == 54_417_605


def test_every_kernel_shape_matches_table1(full_model):
    convs = [m for m in full_model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert len(convs) == len(TABLE1)
    for m, (name, k, o, i) in zip(convs, TABLE1, strict=True):
        expected = (i, o, k, k) if name.startswith("deconv") else (o, i, k, k)
        assert tuple(m.weight.shape) == expected, name
        assert m.bias is not None and m.bias.numel() == o, name
        assert m.stride == ((1, 1) if k == 3 else (2, 2)), name


def test_any_input_size_gives_same_size_output():
    model = BalancedUNet(1, 3, channel_divisor=16).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 96, 70)).shape == (1, 3, 96, 70)
        assert model(torch.randn(1, 1, 256, 256)).shape == (1, 3, 256, 256)


def test_decoder_weight_decay_only_on_decoder():
    model = BalancedUNet(1, 2, channel_divisor=16, decoder_weight_decay=1e-5)
    enc, dec = model.optimizer_param_groups()
    assert "weight_decay" not in enc and dec["weight_decay"] == 1e-5
    assert len(enc["params"]) + len(dec["params"]) == len(list(model.parameters()))


# Tiny input, worked by hand: one image, spatial (1, 4), two foreground channels (K = 3).
# Pixel 4 is masked. Scored probabilities: p1 = (.75, .5, .25), p2 = (.5, .5, .75);
# targets g1 = (1, 1, 0), g2 = (0, 0, 1).
LN3 = math.log(3)


def tiny(masked_logit: float = 5.0, masked_target: int = 0):
    logits = torch.tensor([[[[LN3, 0.0, -LN3, masked_logit]], [[0.0, 0.0, LN3, -masked_logit]]]])
    target = torch.tensor([[[1, 1, 2, masked_target]]])
    mask = torch.tensor([[[1.0, 1.0, 1.0, 0.0]]])
    return logits, target, mask


# DL_1 = 1 - (2*1.25 + 1)/(1.5 + 2 + 1) = 2/9;  DL_2 = 1 - (2*.75 + 1)/(1.75 + 1 + 1) = 1/3.
# Complements: 1-p1 = (.25,.5,.75), 1-g1 = (0,0,1): 1 - (2*.75+1)/(1.5+1+1) = 2/7;
#              1-p2 = (.5,.5,.25), 1-g2 = (1,1,0): 1 - (2*1+1)/(1.25+2+1) = 5/17.
DL1, DL2, CO1, CO2 = 2 / 9, 1 / 3, 2 / 7, 5 / 17
# RWCDL weights, default (N_b + 1)/(N_f + N_b + 2): class 1 (1+1)/(2+1+2) = 2/5, class 2 (2+1)/(1+2+2) = 3/5.
# The earlier "ratio" form (N_b + 1)/(N_f + 1): 2/3 and 3/2, rescaled to sum to 2: 8/13 and 18/13.
FOCAL_SUM = (
    0.2 * 0.0625 * math.log(4 / 3) * 2
    + 0.8 * 0.0625 * math.log(4 / 3)
    + 0.2 * 0.25 * math.log(2)
    + 0.8 * 0.25 * math.log(2) * 2
)
EXPECTED = {
    # (p - g)^2: .0625 + .25 + .0625 + .25 + .25 + .0625 over 3 pixels x 2 classes
    "mse": 0.9375 / 6,
    "dl": DL1 + DL2,
    "cdl": (DL1 + CO1) + (DL2 + CO2),
    "rwcdl": 2 / 5 * (DL1 + CO1) + 3 / 5 * (DL2 + CO2),
    # Sudre: w = 1/(sum g)^2 = (1/4, 1); 1 - 2(1/4*1.25 + .75) / (1/4*(1.5+2) + (1.75+1)) = 1 - 2.125/3.625
    "gdl": 1 - 2.125 / 3.625,
    # BCE: 3 x ln 2 (p=.5) + 3 x ln(4/3) (p_t = .75), mean over 6
    "dicebce": DL1 + DL2 + (3 * math.log(2) + 3 * math.log(4 / 3)) / 6,
    # focal: alpha_t (1 - p_t)^2 (-ln p_t), alpha_t = .2 on positives, .8 on negatives, mean over 6
    "focaldice": DL1 + DL2 + FOCAL_SUM / 6,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loss_matches_hand_computed_value(name):
    logits, target, mask = tiny()
    value = L.LOSSES[name]()(logits, target, mask)
    assert float(value) == pytest.approx(EXPECTED[name], rel=1e-4)


def test_reconstruction_switches():
    logits, target, mask = tiny()
    assert float(L.CompoundDiceLoss(complement=False)(logits, target, mask)) == pytest.approx(DL1 + DL2, rel=1e-5)
    ratio = L.RegularizedWeightedCompoundDiceLoss(weights="ratio")(logits, target, mask)
    assert float(ratio) == pytest.approx(8 / 13 * (DL1 + CO1) + 18 / 13 * (DL2 + CO2), rel=1e-5)
    with pytest.raises(ValueError, match="'share' or 'ratio'"):
        L.RegularizedWeightedCompoundDiceLoss(weights="inverse")


def test_rwcd_weights_on_an_image_with_an_absent_class():
    """256x256, five classes, class 5 absent: the default weights stay in (0, 1) and grow as a class gets
    rarer, so the absent class gets the largest weight but not the whole loss; the earlier ratio form
    gives it about 5.0 of 5."""
    target = torch.zeros(1, 256, 256, dtype=torch.long)
    target[:, :128] = 1  # half the image
    target[:, 128:192] = 2  # a quarter
    target[:, 192:224, :128] = 3
    target[:, 224:, :8] = 4  # rare: 256 pixels
    g, m = L.binary_targets(target, 5), torch.ones(1, 1, 256, 256)
    share = L.rwcd_weights(g, m)[0]
    assert ((share > 0) & (share < 1)).all()
    assert torch.equal(torch.argsort(share), torch.arange(5))  # rarer class, larger weight; absent is largest
    assert share[4] == pytest.approx(1.0, abs=1e-4) and share[0] == pytest.approx(0.5, abs=1e-4)
    assert float(share[4] / share.sum()) < 0.4
    ratio = L.rwcd_weights(g, m, "ratio")[0]
    assert float(ratio.sum()) == pytest.approx(5.0) and float(ratio[4]) > 4.9


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loss_ignores_the_masked_pixel(name):
    loss = L.LOSSES[name]()
    base = tiny()[0].requires_grad_(True)
    v1 = loss(base, *tiny()[1:])
    (g1,) = torch.autograd.grad(v1, base)
    other_logits, other_target, mask = tiny(masked_logit=-7.0, masked_target=2)
    other_logits.requires_grad_(True)
    v2 = loss(other_logits, other_target, mask)
    (g2,) = torch.autograd.grad(v2, other_logits)
    assert float(v1.detach()) == pytest.approx(float(v2.detach()), rel=1e-6)
    torch.testing.assert_close(g1, g2)
    assert g1[..., 3].abs().max() == 0


def test_entries_registered_with_paper_thresholds():
    for suffix in ("dl", "cdl", "rwcdl", "gdl", "dicebce", "focaldice"):
        entry = get_baseline(f"yudistira2020-{suffix}")
        assert entry.output == "sigmoid" and entry.threshold == 0.8 and entry.convention == "yudistira2020"
    assert get_baseline("yudistira2020-mse").threshold == 0.5
    assert get_convention("yudistira2020").paper == "000"


def test_cards_name_the_reconstructions_and_table1_typos():
    cards = {s: get_baseline(f"yudistira2020-{s}").card() for s in ("mse", "dl", "cdl", "rwcdl", "focaldice")}
    assert any("outer joint" in r for r in cards["cdl"]["reconstructions"])
    assert [len(cards[s]["reconstructions"]) for s in ("rwcdl", "cdl", "dl")] == [3, 2, 1]
    assert any("w_k" in r and "`weights='ratio'`" in r for r in cards["rwcdl"]["reconstructions"])
    assert all(any("decoupled" in r for r in card["reconstructions"]) for card in cards.values())
    for suffix in ("gdl", "dicebce", "focaldice"):
        reasons = get_baseline(f"yudistira2020-{suffix}").card()["reconstructions"]
        assert any(r.startswith("decision threshold 0.8") for r in reasons), suffix
    assert not any("threshold" in r for r in cards["dl"]["reconstructions"] + cards["mse"]["reconstructions"])
    assert "54,406,469" in cards["mse"]["description"] and "2,097,152" in cards["mse"]["description"]


PKG = Path(__file__).resolve().parents[2] / "baselines" / "yudistira2020"
T6_ROWS = ("597", "1230", "1614", "2212", "2410", "3107")


def read(name: str) -> list[dict[str, str]]:
    with open(PKG / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_published_tables_shape_and_mapping():
    rows = read("published.csv")
    assert list(rows[0]) == ["paper", "table", "dataset", "method", "class", "metric", "value", "std"]
    assert not isinstance(read_csv_rows(PKG / "published.csv", "published_row", {"value", "std"}), Problem)
    assert all(r["paper"] == "000" and r["dataset"] == "c-merolae" for r in rows)
    classes = [*get_dataset("c-merolae").card.class_names[1:], "overall"]
    for table in "234":  # 4 losses x (5 classes + overall) x 4 metrics
        sub = [r for r in rows if r["table"] == table]
        assert len(sub) == 4 * 6 * 4 and {r["class"] for r in sub} == set(classes)
        assert {r["metric"] for r in sub} == {"precision", "recall", "dice", "auc"} and all(not r["std"] for r in sub)
    t5 = [r for r in rows if r["table"] == "5"]
    assert len(t5) == 4 * 4 and {r["class"] for r in t5} == {"overall"} and all(float(r["std"]) > 0 for r in t5)
    assert {r["table"] for r in rows} == {"2", "3", "4", "5", *(f"6/{n}" for n in T6_ROWS)}
    for n in T6_ROWS:
        scores = [r for r in rows if r["table"] == f"6/{n}" and r["metric"] != "class_ratio"]
        assert len(scores) == 4 * 3 and {r["metric"] for r in scores} == {"precision", "recall", "dice"}
        printed = [r for r in rows if r["table"] == f"6/{n}" and r["metric"] == "class_ratio"]
        ratios = {r["class"]: float(r["value"]) for r in printed}
        assert set(ratios) - {"background"} == set(classes) - {"overall"}
        if "background" not in ratios:  # the foreground shares of one training set sum to 1 (two-digit rounding)
            assert sum(ratios.values()) == pytest.approx(1, abs=0.011)
    assert len(rows) == 3 * 96 + 16 + 6 * 12 + 5 * 5 + 6
    methods = read("methods.csv")
    assert list(methods[0]) == ["table", "method", "baseline", "scale"]
    assert {(m["table"], m["method"]) for m in methods} == {(r["table"], r["method"]) for r in rows}
    registered = {entry_id for entry_id, _ in BASELINES}
    assert all(m["baseline"] in registered for m in methods if m["method"] != "Class Ratios")
    assert all(not m["baseline"] for m in methods if m["method"] == "Class Ratios")
    assert {m["scale"] for m in methods} == {"1"}


@pytest.mark.parametrize(
    ("table", "method", "cls", "metric", "value", "std"),
    [  # spot checks read off the paper, one per table
        ("2", "LRWCD", "peroxisome", "dice", "0.6827", ""),
        ("3", "RWCD", "overall", "auc", "0.9863", ""),
        ("4", "LMSE", "mitochondrion", "precision", "0.3602", ""),
        ("5", "LDice", "overall", "precision", "0.7606", "0.0964"),
        ("6/3107", "Proposed RWCDL", "overall", "recall", "0.8230", ""),
        ("6/3107", "Class Ratios", "background", "class_ratio", "0.22", ""),
    ],
)
def test_published_values_as_printed(table, method, cls, metric, value, std):
    key = (table, method, cls, metric)
    hits = [r for r in read("published.csv") if (r["table"], r["method"], r["class"], r["metric"]) == key]
    assert [(r["value"], r["std"]) for r in hits] == [(value, std)]


def test_paper_tier_protocol_as_recipe_data():
    """200 epochs for G-1, 100 for G-2 and G-3, no validation set (the last model); decay decoupled."""
    recipe = get_baseline("yudistira2020-rwcdl").recipe("paper")
    assert recipe.model_selection == "last" and recipe.optimizer == "adamw"
    for group, n_train, iterations in (("G-1", 5047, 252_350), ("G-2", 3078, 76_950), ("G-3", 1507, 37_675)):
        assert recipe.iterations_for([f"{group}_{i}" for i in range(n_train)]) == iterations
    assert recipe.iterations_for(["a", "b"]) == recipe.iterations == 37_675
    assert recipe.iterations_for(["G-1_a", "G-2_b"]) == recipe.iterations  # mixed groupings: no epoch rule
    for tier in ("quick", "paper"):
        r = get_baseline("yudistira2020-dl").recipe(tier)
        assert r.lr * r.model_kwargs["decoder_weight_decay"] == pytest.approx(1e-5)  # 1e-5 of a weight per step
    assert get_baseline("yudistira2020-dl").recipe("quick").model_selection == "best"
