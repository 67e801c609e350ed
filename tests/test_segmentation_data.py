"""Synthetic scenes, the VOC loader on a fabricated VOC-format tree, convolutionalization and sliding windows."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from course_lib.segmentation import (
    CLASSES,
    PatchClassifier,
    SyntheticScenes,
    convolutionalize,
    pad_for_patches,
    patch_segment,
    sample_patches,
    score_map_size,
    sliding_window_scores,
    voc,
    voc_palette,
)


def test_scenes_shapes_ranges_and_determinism():
    a = SyntheticScenes("train", n=6, size=40, seed=3)
    b = SyntheticScenes("train", n=6, size=40, seed=3)
    assert a.images.shape == (6, 3, 40, 40) and a.labels.shape == (6, 40, 40)
    assert a.images.dtype == torch.float32 and a.labels.dtype == torch.int64
    assert 0 <= float(a.images.min()) and float(a.images.max()) <= 1
    torch.testing.assert_close(a.images, b.images)
    torch.testing.assert_close(a.labels, b.labels)
    values = set(a.labels.unique().tolist())
    assert values <= set(range(len(CLASSES))) | {255}
    assert 255 in values and 0 in values, "borders are ignored, background is present"
    image, labels = a[2]
    torch.testing.assert_close(image, a.images[2])


def test_scenes_cover_every_class_and_have_thin_poles():
    ds = SyntheticScenes("train", n=40, size=64, seed=0)
    counts = torch.bincount(ds.labels[ds.labels != 255], minlength=len(CLASSES))
    assert (counts > 0).all(), f"every class must occur; counts {counts.tolist()}"
    # Poles are thin: a pole pixel's row-run is short where the pole is close to vertical.
    assert counts[4] < counts[1], "poles are thin parts, much smaller than balls"


def test_train_and_test_never_share_a_layout():
    train = SyntheticScenes("train", n=30, size=32, seed=0)
    test = SyntheticScenes("test", n=30, size=32, seed=0)
    assert not set(train.layouts) & set(test.layouts)
    flat_train = train.images.flatten(1)
    flat_test = test.images.flatten(1)
    assert torch.cdist(flat_test, flat_train).min() > 1.0, "no test image is a copy of a training image"


def test_scenes_bad_arguments():
    with pytest.raises(ValueError, match="split must be one of"):
        SyntheticScenes("dev", n=2, size=32)
    with pytest.raises(ValueError, match="size must be ≥ 16"):
        SyntheticScenes("train", n=2, size=8)


def write_voc_tree(root, names, size=(23, 31)):
    """A tiny VOC 2012 tree: JPEGs, palette-PNG masks with a void border, and the split list."""
    base = root / "VOCdevkit" / "VOC2012"
    (base / "JPEGImages").mkdir(parents=True)
    (base / "SegmentationClass").mkdir()
    (base / "ImageSets" / "Segmentation").mkdir(parents=True)
    rng = np.random.default_rng(0)
    masks = {}
    H, W = size
    for k, name in enumerate(names):
        Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(base / "JPEGImages" / f"{name}.jpg")
        mask = np.zeros((H, W), dtype=np.uint8)
        mask[5:15, 4:20] = 15 if k == 0 else 12  # person / dog
        mask[4, 4:20] = 255  # void border
        png = Image.fromarray(mask, mode="P")
        png.putpalette(voc_palette().flatten().tolist())
        png.save(base / "SegmentationClass" / f"{name}.png")
        masks[name] = mask
    (base / "ImageSets" / "Segmentation" / "train.txt").write_text("\n".join(names) + "\n")
    return masks


def test_voc_loader_on_a_fabricated_tree(tmp_path):
    masks = write_voc_tree(tmp_path, ["2007_000032", "2007_000039"])
    ds = voc(tmp_path, "train", train_transforms=False)
    assert len(ds) == 2
    image, mask = ds[0]
    assert image.shape == (3, 23, 31) and image.dtype == torch.float32 and float(image.max()) <= 1
    assert mask.shape == (23, 31) and mask.dtype == torch.int64
    torch.testing.assert_close(mask, torch.from_numpy(masks["2007_000032"]).long())  # indices, not colours
    assert set(mask.unique().tolist()) == {0, 15, 255}


def test_voc_joint_transforms_keep_image_and_mask_aligned(tmp_path):
    write_voc_tree(tmp_path, ["a"], size=(20, 20))
    base = tmp_path / "VOCdevkit" / "VOC2012"
    # Make the image equal to its mask (as grey levels) so that alignment can be checked after random ops.
    mask = np.array(Image.open(base / "SegmentationClass" / "a.png"))
    Image.fromarray(np.repeat(mask[..., None], 3, axis=2)).save(base / "JPEGImages" / "a.jpg", quality=100)
    ds = voc(tmp_path, "train", crop=32, train_transforms=True)
    torch.manual_seed(0)
    for _ in range(5):
        image, m = ds[0]
        assert image.shape == (3, 32, 32) and m.shape == (32, 32)
        inside = m != 255
        assert (m == 255).sum() >= 32 * 32 - 20 * 20, "padding is filled with the ignore label"
        grey = (image[0] * 255).round()
        # JPEG blurs edges; compare away from them: pixels of class 15 are bright, background dark.
        assert grey[inside & (m == 15)].mean() > 10 and grey[inside & (m == 0)].mean() < 5


def test_voc_mask_with_labels_voc_does_not_have_is_refused(tmp_path):
    write_voc_tree(tmp_path, ["a"])
    path = tmp_path / "VOCdevkit" / "VOC2012" / "SegmentationClass" / "a.png"
    mask = np.array(Image.open(path))
    mask[0, 0] = 200  # not a VOC class, not void
    png = Image.fromarray(mask, mode="P")
    png.putpalette(voc_palette().flatten().tolist())
    png.save(path)
    with pytest.raises(ValueError, match=r"a.png has labels \[200\]; VOC masks hold 0..20 and 255"):
        voc(tmp_path, "train", train_transforms=False)[0]


def test_voc_missing_folder_says_what_to_put_where(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"VOCdevkit.*JPEGImages.*README"):
        voc(tmp_path / "nothing", "train")
    with pytest.raises(ValueError, match="split must be one of"):
        voc(tmp_path, "test")


def test_convolutionalize_gives_identical_outputs_on_a_patch():
    torch.manual_seed(0)
    clf = PatchClassifier(5, patch=26, width=4, hidden=16).eval()
    fcn = convolutionalize(clf).eval()
    x = torch.rand(3, 3, 26, 26)
    torch.testing.assert_close(fcn(x)[:, :, 0, 0], clf(x))
    assert fcn(torch.rand(1, 3, 64, 50)).shape == (1, 5, score_map_size(64, patch=26, stride=4),
                                                     score_map_size(50, patch=26, stride=4))


def test_convolutionalize_generic_classifier_and_inferred_shape():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(6 * 4 * 4, 10), nn.Tanh(), nn.Linear(10, 7),
                                            nn.ReLU(), nn.Linear(7, 3))

        def forward(self, x):
            return self.classifier(self.features(x))

    net = Net().eval()
    conv = convolutionalize(net).eval()  # feature shape (6, 4, 4) inferred
    x = torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(conv(x)[:, :, 0, 0], net(x))
    net.classifier.append(nn.BatchNorm1d(3))
    with pytest.raises(TypeError, match="cannot convolutionalize a BatchNorm1d"):
        convolutionalize(net)
    with pytest.raises(TypeError, match=r"\.features"):
        convolutionalize(nn.Linear(3, 3))


def test_dense_equals_sliding_window_at_the_net_stride():
    torch.manual_seed(0)
    clf = PatchClassifier(5, patch=26, width=4, hidden=16).eval()
    fcn = convolutionalize(clf).eval()
    images = torch.rand(2, 3, 41, 37)
    padded = pad_for_patches(images, 26)
    with torch.no_grad():
        torch.testing.assert_close(fcn(padded), sliding_window_scores(clf, padded, patch=26, stride=4))
        dense = patch_segment(fcn, images, patch=26, stride=4)
        slow = patch_segment(clf, images, patch=26, stride=4, dense=False)
    assert dense.shape == (2, 5, 41, 37)
    torch.testing.assert_close(dense, slow)


def test_sample_patches_centre_labels():
    ds = SyntheticScenes("train", n=4, size=32, seed=0)
    g = torch.Generator().manual_seed(0)
    patches, targets = sample_patches(ds.images, ds.labels, 50, patch=9, generator=g)
    assert patches.shape == (50, 3, 9, 9) and targets.shape == (50,)
    assert (targets != 255).all()
    # The centre of each patch is the pixel whose label it carries: find it back in the images.
    centre = patches[:, :, 4, 4]  # (50, 3)
    hits = (ds.images.permute(0, 2, 3, 1)[None] == centre[:, None, None, None]).all(-1)  # (50, N, H, W)
    for k in range(50):
        labels_at = ds.labels[hits[k]]
        assert (labels_at == targets[k]).any()
