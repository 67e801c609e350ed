"""Lecture 06: image restoration with ConvNets.

Denoising (Burger et al. CVPR 2012: a plain MLP against BM3D; DnCNN, Zhang et al. TIP 2017: residual learning),
blind deblurring (Schuler et al. 2014), inpainting incl. overlaid text (Xie et al. NIPS 2012; Köhler et al.
2014), dirt and rain on a window (Eigen, Krishnan, Fergus ICCV 2013), on real photographs bundled with
scikit-image, against the classical methods (``baselines``: BM3D, non-local means, TV, Wiener,
Richardson–Lucy, biharmonic inpainting, median filter), measured with PSNR and SSIM.

Modules, in the order of the lecture: ``photos`` (data), ``metrics``, ``corruptions`` (noise, blur),
``masks`` (missing pixels, text), ``window`` (dirt, rain), ``patch_mlp``, ``dncnn``, ``ffdnet`` (the published
FFDNet, Zhang, Zuo, Zhang TIP 2018, with a noise-level input), ``nets`` (deblur, inpaint, window), ``deconv``
(non-blind deblurring: a net refining Richardson–Lucy, Schuler et al. CVPR 2013), ``tiling`` (any image size in
bounded memory), ``baselines``, ``compare`` (tables), ``plots``, ``recipes`` (what each net trains and is tested
on), ``tasks`` (training, checkpoints).

Lecture: 06_restoration
"""

from course_lib.core import num_params

from . import (
    baselines,
    config,  # registers the settings, train task and course-map panel  # noqa: F401
    plots,
)
from .compare import format_table, paired_difference, run_methods
from .corruptions import add_gaussian_noise, blur, check_kernel, defocus_kernel, gaussian_kernel, motion_kernel
from .deconv import NonBlindDeblur, richardson_lucy
from .dncnn import DnCNN, denoise, residual_loss
from .ffdnet import FFDNet, ffdnet_denoise, load_ffdnet
from .masks import apply_mask, random_pixel_mask, render_text, stroke_mask, text_mask
from .metrics import mse, psnr, ssim
from .nets import RestorationNet, apply_net, receptive_field
from .patch_mlp import PatchMLP, average_patches, average_patches_loop, extract_patches
from .photos import (
    PHOTOS,
    TEST_PHOTOS,
    TRAIN_PHOTOS,
    PhotoPatches,
    augment,
    load_photo,
    read_png_folder,
    rgb_to_grey,
    test_photos,
)
from .recipes import BLUR_NOISE, CONDITIONS, corrupt_eval, eval_kernel
from .tasks import (
    EVAL_SIGMAS,
    KINDS,
    SNAPSHOT_RUNS,
    budget_steps,
    build_model,
    eval_images,
    evaluate,
    load_or_train,
    noisy_eval,
    restore,
    train_model,
)
from .tiling import margin_of, run_tiled
from .window import composite, dirt_layer, rain_layer, window_corrupt

__all__ = [
    "baselines", "plots", "format_table", "paired_difference", "run_methods",
    "add_gaussian_noise", "blur", "check_kernel", "defocus_kernel", "gaussian_kernel",
    "motion_kernel", "DnCNN", "denoise", "num_params", "residual_loss", "apply_mask", "random_pixel_mask",
    "render_text",
    "stroke_mask", "text_mask", "mse", "psnr", "ssim", "RestorationNet", "apply_net", "receptive_field",
    "PatchMLP", "average_patches", "average_patches_loop", "extract_patches", "PHOTOS", "TEST_PHOTOS",
    "TRAIN_PHOTOS", "PhotoPatches", "augment", "load_photo", "read_png_folder", "rgb_to_grey", "test_photos",
    "BLUR_NOISE", "CONDITIONS", "corrupt_eval", "eval_kernel", "EVAL_SIGMAS", "KINDS", "SNAPSHOT_RUNS", "build_model",
    "evaluate", "eval_images", "load_or_train", "noisy_eval", "restore", "train_model", "composite", "dirt_layer",
    "rain_layer", "window_corrupt", "NonBlindDeblur", "richardson_lucy", "FFDNet", "ffdnet_denoise", "load_ffdnet",
    "margin_of", "run_tiled", "budget_steps",
]
