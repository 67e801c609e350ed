"""Lecture 07: data, network, colorize, a training step, the linear probe."""

import pytest
import torch
from torch.testing import assert_close

from course_lib.colorization import (
    PALETTES,
    SHAPES,
    ColorizationNet,
    SyntheticColorScenes,
    colorize,
    legacy_photos,
    linear_probe,
    load_photo,
    palette_mean,
    predict_ab,
    probe_features,
    rgb_to_lab,
)
from course_lib.colorization.data import scene_seed
from course_lib.colorization.tasks import KINDS, make_loss, training_prior


@pytest.fixture(scope="module")
def scenes():
    return SyntheticColorScenes("train", 24, 32, seed=0)


def test_scenes_are_deterministic_and_splits_disjoint(scenes):
    again = SyntheticColorScenes("train", 24, 32, seed=0)
    assert_close(again.rgb8, scenes.rgb8)
    test = SyntheticColorScenes("test", 24, 32, seed=0)
    assert not torch.equal(test.rgb8, scenes.rgb8)
    train_seeds = {scene_seed(0, "train", i) for i in range(100_000)}
    assert not train_seeds & {scene_seed(0, "test", i) for i in range(100_000)}
    item = scenes[0]
    assert item["rgb"].shape == (3, 32, 32) and item["rgb"].dtype == torch.float32
    assert item["mask"].shape == (32, 32) and item["mask"].dtype == torch.bool
    assert 0 <= int(item["label"]) < len(SHAPES)


def test_palettes_are_ambiguous_by_design():
    for shape, palette in PALETTES.items():
        assert abs(sum(f for _, _, f in palette) - 1.0) < 1e-9, shape
    for shape in ("disc", "square", "diamond"):
        palette = sorted(PALETTES[shape], key=lambda c: -c[2])  # most frequent first
        chroma = [(ab[0] ** 2 + ab[1] ** 2) ** 0.5 for _, ab, _ in palette]
        # as in natural photos, the common colour is the dullest and the rare ones are vivid
        assert chroma[0] == min(chroma) and min(chroma[1:]) > 2 * chroma[0], shape
        # the L2 answer (the palette mean) is far duller than the rare colours it averages in
        a, b = palette_mean(shape)
        assert (a**2 + b**2) ** 0.5 < 0.6 * min(chroma[1:]), shape


def test_object_colours_follow_the_palette_frequencies():
    data = SyntheticColorScenes("train", 300, 32, seed=1)
    discs = [name for scene in data.colors for shape, name in scene if shape == "disc"]
    freq = {name: discs.count(name) / len(discs) for _, (name, _, _) in zip(range(3), PALETTES["disc"])}
    for name, _, f in PALETTES["disc"]:
        assert abs(freq[name] - f) < 0.12, (name, freq[name], f)


def test_network_shapes_heads_and_errors():
    L = torch.rand(2, 1, 32, 48) * 100
    net = ColorizationNet(width=4)
    assert net(L).shape == (2, 313, 8, 12)
    reg = ColorizationNet(width=4, head="regression")
    assert reg(L).shape == (2, 2, 8, 12)
    assert predict_ab(net, L).shape == (2, 2, 8, 12)
    assert "width=4" in repr(net)
    with pytest.raises(ValueError, match="divisible by 8"):
        net(torch.zeros(1, 1, 30, 32))
    with pytest.raises(ValueError, match=r"L must have shape \(B, 1, H, W\)"):
        net(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="head must be one of"):
        ColorizationNet(head="l1")


def test_colorize_keeps_l_and_input_resolution():
    torch.manual_seed(0)
    net = ColorizationNet(width=4).eval()
    rgb = torch.rand(2, 3, 30, 45)
    out = colorize(net, rgb, T=0.38)
    assert out.shape == (2, 3, 30, 45)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    # the output's lightness is the input's (up to gamut clipping): the net only chooses ab
    assert_close(rgb_to_lab(out)[:, 0], rgb_to_lab(rgb)[:, 0], atol=3.0, rtol=0)
    assert colorize(net, rgb_to_lab(rgb)[:, :1], net_size=32).shape == (2, 3, 30, 45)


def test_a_training_step_lowers_each_loss(scenes):
    bins_prior = training_prior(scenes, ColorizationNet(width=4).bins)
    from course_lib.colorization import rebalance_weights

    weights = rebalance_weights(bins_prior)
    batch = {"rgb": scenes.tensors()[0][:8]}
    for kind in KINDS:
        torch.manual_seed(0)
        net = ColorizationNet(width=4, head="regression" if kind == "l2" else "class")
        loss_fn = make_loss(kind, bins=net.bins if kind != "l2" else ColorizationNet(width=1).bins, weights=weights)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        first = float(loss_fn(net, batch).detach())
        for _ in range(15):
            opt.zero_grad()
            loss_fn(net, batch).backward()
            opt.step()
        assert float(loss_fn(net, batch).detach()) < first, kind
    with pytest.raises(ValueError, match="needs weights"):
        make_loss("rebal", bins=net.bins)


def test_linear_probe_separates_separable_features():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(3, (120,), generator=g)
    x = torch.randn(120, 5, generator=g) + torch.nn.functional.one_hot(y, 5).float() * 4
    res = linear_probe(x[:80], y[:80], x[80:], y[80:], steps=100)
    assert res["test_acc"] > 0.9 and len(res["loss_history"]) == 100
    noise = linear_probe(torch.randn(80, 5, generator=g), y[:80], torch.randn(40, 5, generator=g), y[80:])
    assert noise["test_acc"] < 0.7
    feats = probe_features(ColorizationNet(width=4), torch.rand(3, 3, 32, 32), layer="conv5")
    assert feats.shape == (3, 16)


def test_photos_load_offline_and_split_by_photo():
    photos = legacy_photos("test", size=32)
    assert set(photos) == {"astronaut", "chelsea"}
    assert all(p.shape == (3, 32, 32) for p in photos.values())
    cam = load_photo("camera", size=16)
    assert_close(cam[0], cam[1])  # a black-and-white photograph: three equal channels
    with pytest.raises(ValueError, match="name must be one of"):
        load_photo("lena")
