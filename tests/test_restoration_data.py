"""Lecture 06: photos load offline and split by photo; patches and corruptions are deterministic, batched and
checked; kernels are normalised and odd; the PNG folder reader reads what it is given."""

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib.restoration import (
    PHOTOS,
    TEST_PHOTOS,
    TRAIN_PHOTOS,
    PhotoPatches,
    add_gaussian_noise,
    augment,
    blur,
    check_kernel,
    defocus_kernel,
    gaussian_kernel,
    load_photo,
    motion_kernel,
    random_pixel_mask,
    read_png_folder,
    rgb_to_grey,
    stroke_mask,
    text_mask,
    window_corrupt,
)
from course_lib.restoration.recipes import CONDITIONS, corrupt_eval, corrupt_train


def test_every_photo_loads_offline_in_unit_range_and_splits_share_no_photo():
    assert not set(PHOTOS["train"]) & set(PHOTOS["test"])
    assert PHOTOS["test"] == TEST_PHOTOS
    for name in TRAIN_PHOTOS + TEST_PHOTOS:
        for grey in (True, False):
            x = load_photo(name, grey=grey)
            assert x.dtype == torch.float32 and x.shape[0] == (1 if grey else 3) and min(x.shape[1:]) >= 64
            assert 0 <= float(x.min()) and float(x.max()) <= 1
            torch.testing.assert_close(x * 255, (x * 255).round(), atol=1e-4, rtol=0)  # 8-bit values
    assert load_photo("camera", size=100).shape == (1, 100, 100)
    with pytest.raises(ValueError, match="name must be one of"):
        load_photo("eagle")


def test_patches_are_deterministic_per_seed_and_augment_covers_the_dihedral_group():
    a, b, c = PhotoPatches(6, 24, seed=3), PhotoPatches(6, 24, seed=3), PhotoPatches(6, 24, seed=4)
    assert a[2].shape == (1, 24, 24)
    torch.testing.assert_close(a[5], b[5])
    assert not torch.equal(a[5], c[5])
    x = torch.arange(9.0).view(1, 3, 3)
    assert len({tuple(augment(x, k).flatten().tolist()) for k in range(8)}) == 8
    with pytest.raises(IndexError):
        a[6]


def test_gaussian_noise_is_deterministic_scaled_in_255_units_and_per_image_sigma_works():
    x = torch.full((2, 1, 64, 64), 0.5)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    y1, y2 = add_gaussian_noise(x, 25, generator=g1), add_gaussian_noise(x, 25, generator=g2)
    torch.testing.assert_close(y1, y2)
    assert float((y1 - x).std()) == pytest.approx(25 / 255, rel=0.05)
    y = add_gaussian_noise(x, torch.tensor([0.0, 50.0]), generator=g1)
    assert float((y[0] - x[0]).abs().max()) == 0 and float((y[1] - x[1]).std()) == pytest.approx(50 / 255, rel=0.05)


@pytest.mark.parametrize("bad, exc, match", [
    (lambda: add_gaussian_noise(torch.rand(1, 1, 8, 8), -1), ValueError, "sigma must be ≥ 0"),
    (lambda: add_gaussian_noise(torch.rand(1, 8, 8), 25), ValueError, r"x must be \(N, C, H, W\)"),
    (lambda: add_gaussian_noise(torch.rand(1, 1, 8, 8) * 2, 25), ValueError, r"values in \[0.0, 1.0\]"),
    (lambda: add_gaussian_noise(torch.full((1, 1, 4, 4), float("nan")), 25), ValueError, "finite"),
    (lambda: gaussian_kernel(1.0, size=4), ValueError, "odd"),
    (lambda: motion_kernel(5, 0, size=6), ValueError, "odd"),
    (lambda: blur(torch.rand(1, 1, 8, 8), torch.ones(3, 3)), ValueError, "sum to 1"),
    (lambda: blur(torch.rand(1, 1, 8, 8), torch.full((2, 2), 0.25)), ValueError, "odd sides"),
    (lambda: random_pixel_mask((1, 1, 8, 8), 1.5), ValueError, "fraction"),
])
def test_clear_errors(bad, exc, match):
    with pytest.raises(exc, match=match):
        bad()


@pytest.mark.parametrize("kernel", [gaussian_kernel(1.5), defocus_kernel(3), defocus_kernel(0.4),
                                    motion_kernel(11, 30), motion_kernel(7, 90), motion_kernel(1, 0)])
def test_kernels_are_normalised_odd_and_non_negative(kernel):
    check_kernel(kernel)
    assert kernel.shape[0] % 2 == 1 and kernel.shape[0] == kernel.shape[1]


def test_motion_kernel_lies_along_its_angle_and_defocus_is_round():
    h = motion_kernel(9, 0)
    assert float(h[h.shape[0] // 2].sum()) == pytest.approx(1.0)  # horizontal: all on the centre row
    v = motion_kernel(9, 90)
    assert float(v[:, v.shape[1] // 2].sum()) == pytest.approx(1.0)
    d = defocus_kernel(4)
    torch.testing.assert_close(d, d.T)
    torch.testing.assert_close(d, d.flip(0))


def test_blur_keeps_a_constant_image_shifts_nothing_and_matches_scipy():
    from scipy.ndimage import convolve

    x = torch.full((1, 1, 16, 16), 0.3)
    torch.testing.assert_close(blur(x, defocus_kernel(3)), x)
    g = torch.Generator().manual_seed(0)
    img = torch.rand(2, 3, 20, 24, generator=g)
    k = motion_kernel(7, 30)
    want = np.stack([[convolve(c.double().numpy(), k.double().numpy(), mode="mirror") for c in im] for im in img])
    torch.testing.assert_close(blur(img, k), torch.from_numpy(want).float(), atol=1e-5, rtol=0)


def test_masks_are_binary_deterministic_and_sized():
    shape = (2, 3, 48, 64)
    for make in (lambda g: random_pixel_mask(shape, 0.5, generator=g), lambda g: stroke_mask(shape, generator=g),
                 lambda g: text_mask(shape, generator=g)):
        m1, m2 = make(torch.Generator().manual_seed(5)), make(torch.Generator().manual_seed(5))
        assert m1.shape == (2, 1, 48, 64) and set(m1.unique().tolist()) <= {0.0, 1.0}
        torch.testing.assert_close(m1, m2)
        assert 0.02 < float(m1.mean()) < 0.8
    m = text_mask(shape, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(m[0], m[1])  # a different piece of text on each image


@pytest.mark.parametrize("kind", ["dirt", "rain"])
def test_window_layers_blend_within_range_and_are_deterministic(kind):
    x = torch.rand(2, 3, 40, 40, generator=torch.Generator().manual_seed(0))
    y1, a1 = window_corrupt(x, kind, generator=torch.Generator().manual_seed(1))
    y2, _ = window_corrupt(x, kind, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(y1, y2)
    assert a1.shape == (2, 1, 40, 40) and 0 <= float(a1.min()) and float(a1.max()) <= 1 and float(a1.mean()) > 0.005
    assert 0 <= float(y1.min()) and float(y1.max()) <= 1
    clean = a1 < 1e-6
    torch.testing.assert_close(y1[clean.expand_as(y1)], x[clean.expand_as(x)])


@pytest.mark.parametrize("kind", list(CONDITIONS))
def test_recipes_keep_shapes_and_are_deterministic(kind):
    C = 1 if kind == "deblur" else 3
    x = torch.rand(3, C, 48, 48, generator=torch.Generator().manual_seed(0))
    (i1, t1), (i2, _) = (corrupt_train(kind, x, torch.Generator().manual_seed(2)) for _ in range(2))
    a, b = (i1[0], i2[0]) if isinstance(i1, tuple) else (i1, i2)
    assert a.shape == x.shape and t1 is x
    torch.testing.assert_close(a, b)
    for cond in CONDITIONS[kind]:
        inputs, shown = corrupt_eval(kind, cond, x)
        assert shown.shape == x.shape and not torch.allclose(shown, x)


def test_png_folder_reader_reads_8_and_16_bit_grey_and_colour(tmp_path):
    folder = tmp_path / "set12"
    folder.mkdir()
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(grey).save(folder / "01.png")
    Image.fromarray(np.full((8, 8, 3), [255, 0, 0], dtype=np.uint8)).save(folder / "02.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(folder / "03.png")
    out = read_png_folder("set12", root=tmp_path)
    assert list(out) == ["01", "02", "03"]
    torch.testing.assert_close(out["01"][0], torch.from_numpy(grey / 255.0).float())
    assert out["02"].shape == (1, 8, 8) and float(out["02"].mean()) == pytest.approx(0.2125, abs=1e-6)
    torch.testing.assert_close(out["03"], out["01"], atol=1e-6, rtol=0)
    assert read_png_folder("set12", root=tmp_path, grey=False)["01"].shape == (3, 8, 8)


def test_missing_png_folder_names_it():
    with pytest.raises(FileNotFoundError, match="bsd68.*README.md"):
        read_png_folder("bsd68", root="/nonexistent")


def test_png_modes_are_converted_by_pil_not_guessed(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    rgb = np.stack([grey, 255 - grey, grey // 2], -1)
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    palette.save(folder / "palette.png")  # pixels are palette indices
    Image.fromarray(grey > 100).convert("1").save(folder / "bits.png")  # pixels are 0/1
    Image.fromarray(np.stack([grey, np.full_like(grey, 9)], -1), mode="LA").save(folder / "greyalpha.PNG")
    out = read_png_folder("set", root=tmp_path)
    assert set(out) == {"palette", "bits", "greyalpha"}
    want = torch.from_numpy(np.asarray(palette.convert("RGB"), np.float32) / 255).permute(2, 0, 1)
    torch.testing.assert_close(out["palette"], rgb_to_grey(want))
    assert set(out["bits"].unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(out["greyalpha"], torch.from_numpy(grey / 255.0).float()[None])  # alpha dropped
    colour = read_png_folder("set", root=tmp_path, grey=False)
    torch.testing.assert_close(colour["palette"], want)
    assert colour["greyalpha"].shape == (3, 8, 8)
