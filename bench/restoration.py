"""Benchmark for lecture 06 (restoration): Burger's question on the full held-out photos, and the other nets.

Run: ``.venv/bin/python bench/restoration.py`` (several minutes on a 2-core CPU: BM3D takes seconds per photo).
Writes ``bench/results/restoration.json`` and ``.md``.

* Denoising: the three held-out grey photos (``TEST_PHOTOS``, full size), σ ∈ {15, 25, 50}, one fixed noise
  draw per σ; noisy input, TV, NLM, BM3D (bm3d package), PatchMLP, DnCNN σ = 25, blind DnCNN: PSNR / SSIM
  means and seconds per image (median of the photos; the same photos and device for all). The DnCNN − BM3D
  gap carries a 95 % interval over the photos' paired differences.
* Deblurring (motion, defocus), inpainting (text, 50 % pixels), dirt and rain: each net against its classical
  baselines on the full held-out photos (grey for deblurring, colour otherwise), same corruption for all.
* Tuning: the TV weight and NLM's h on crops of *training* photos (the constants in ``baselines``).
Missing checkpoints are reported as missing.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

import course_lib  # noqa: E402
import course_lib.restoration as rest  # noqa: E402
from course_lib.core import checkpoint_path  # noqa: E402
from course_lib.restoration import baselines  # noqa: E402
from course_lib.restoration.nets import prefill  # noqa: E402

SIGMAS = (15, 25, 50)


def timed(fn, images):
    """Run ``fn`` on each image (Tensor[1, C, H, W]) alone: outputs and the median seconds per image."""
    outs, secs = [], []
    for img in images:
        start = time.perf_counter()
        out = fn(img)
        if out.device.type == "cuda":
            torch.cuda.synchronize()
        secs.append(time.perf_counter() - start)
        outs.append(out.cpu())
    return outs, statistics.median(secs)


def score(outs, clean):
    p = [float(rest.psnr(o.clamp(0, 1), c)) for o, c in zip(outs, clean)]
    s = [float(rest.ssim(o.clamp(0, 1), c)) for o, c in zip(outs, clean)]
    return {"psnr": sum(p) / len(p), "ssim": sum(s) / len(s), "psnr_each": p}


def load_models(device):
    models, info = {}, {}
    for kind in rest.KINDS:
        if checkpoint_path(f"restoration-{kind}").is_file():
            models[kind], meta = rest.load_model(kind, device=device)
            info[kind] = {"command": meta["command"], "train_minutes": meta["metrics"]["train_minutes"],
                          "device": meta["config"].get("device", "?")}
    return models, info


def denoising(models, device) -> dict:
    clean = [rest.load_photo(n)[None] for n in rest.TEST_PHOTOS]  # each (1, 1, H, W)
    out = {}
    for s in SIGMAS:
        g = torch.Generator().manual_seed(1000 + s)
        noisy = [rest.add_gaussian_noise(c, s, generator=g) for c in clean]
        methods = {
            "noisy": lambda y: y.clamp(0, 1),
            "TV": lambda y, s=s: baselines.tv_denoise(y, s),
            "NLM": lambda y: baselines.nlm_denoise(y),
            "BM3D": lambda y, s=s: baselines.bm3d_denoise(y, s),
        }
        names = {"mlp": "PatchMLP (σ=25)", "dncnn25": "DnCNN (σ=25)", "blind": "DnCNN blind"}
        for kind, name in names.items():
            if kind in models:
                m = models[kind]
                methods[name] = (lambda y, m=m: m.denoise(y.to(device)).cpu()) if kind == "mlp" else (
                    lambda y, m=m: rest.denoise(m, y.to(device)).cpu())
        rows = {}
        for name, fn in methods.items():
            outs, sec = timed(fn, noisy)
            rows[name] = {**score(outs, clean), "seconds_per_image": 0.0 if name == "noisy" else sec}
            print(f"σ={s} {name:16s} {rows[name]['psnr']:.2f} dB {rows[name]['ssim']:.4f} {sec:.2f} s", flush=True)
        out[str(s)] = rows
    return out


def others(models, device) -> dict:
    grey = torch.stack([rest.load_photo(n, size=300) for n in rest.TEST_PHOTOS])  # centre 300², same size
    colour = torch.stack([rest.load_photo(n, grey=False, size=300) for n in rest.TEST_PHOTOS])
    res = {}
    for cond in rest.CONDITIONS["deblur"]:
        k = rest.eval_kernel(cond)
        y, _ = rest.corrupt_eval("deblur", cond, grey)
        methods = {"blurred input": lambda y: y,
                   "Wiener (true k)": lambda y, k=k: baselines.wiener_deconv(y, k, balance=0.03),
                   "unsupervised Wiener (true k)": lambda y, k=k: baselines.unsupervised_wiener_deconv(y, k),
                   "Richardson-Lucy 30 (true k)": lambda y, k=k: baselines.richardson_lucy_deconv(y, k, num_iter=30)}
        if "deblur" in models:
            methods["net (blind)"] = lambda y: rest.apply_net(models["deblur"], y.to(device)).cpu()
        res[f"deblur/{cond}"] = {n: {**score(list(f(y).split(1)), list(grey.split(1)))} for n, f in methods.items()}
    for cond in rest.CONDITIONS["inpaint"]:
        (y, m), _ = rest.corrupt_eval("inpaint", cond, colour)
        methods = {"corrupted input": lambda y, m: y, "local average": lambda y, m: prefill(y, m).clamp(0, 1),
                   "biharmonic": baselines.biharmonic_inpaint}
        if "inpaint" in models:
            methods["net (mask-aware)"] = lambda y, m: rest.apply_net(models["inpaint"], (y.to(device),
                                                                                          m.to(device))).cpu()
        res[f"inpaint/{cond}"] = {n: score(list(f(y, m).split(1)), list(colour.split(1))) for n, f in methods.items()}
    for cond in rest.CONDITIONS["window"]:
        y, _ = rest.corrupt_eval("window", cond, colour)
        methods = {"corrupted input": lambda y: y, "median 3x3": lambda y: baselines.median_denoise(y, size=3),
                   "median 5x5": lambda y: baselines.median_denoise(y, size=5)}
        if "window" in models:
            methods["net"] = lambda y: rest.apply_net(models["window"], y.to(device)).cpu()
        res[f"window/{cond}"] = {n: score(list(f(y).split(1)), list(colour.split(1))) for n, f in methods.items()}
    return res


def tuning() -> dict:
    names = ["coffee", "rocket", "brick", "clock", "motorcycle", "moon"]
    x = torch.stack([rest.load_photo(n)[:, 50:178, 50:178] for n in names])
    out = {}
    for s in SIGMAS:
        y = rest.add_gaussian_noise(x, s, generator=torch.Generator().manual_seed(s))
        out[str(s)] = {
            "tv": {w: float(rest.psnr(baselines.tv_denoise(y, s, weight_per_sigma=w), x).mean())
                   for w in (0.3, 0.5, 0.7, 0.9, 1.2, 1.6)},
            "nlm": {h: float(rest.psnr(baselines.nlm_denoise(y, h_factor=h), x).mean()) for h in (0.6, 0.8, 1.0, 1.2)},
        }
    return out


def markdown(den, oth, tune, info, device) -> str:
    L = ["## Denoising the held-out grey photos (" + ", ".join(rest.TEST_PHOTOS) + ", full size)", "",
         "PSNR (dB) / SSIM, means over the 3 photos; seconds per photo (median) on " + str(device) +
         " (BM3D, NLM, TV on the CPU). DnCNN and PatchMLP were trained at σ = 25 only; the blind DnCNN over "
         "σ ∈ [0, 55].", "",
         "| method | " + " | ".join(f"σ={s}" for s in SIGMAS) + " | s / photo (σ=25) |",
         "|---|" + "---|" * (len(SIGMAS) + 1)]
    for name in den[str(SIGMAS[0])]:
        cells = [f"{den[str(s)][name]['psnr']:.2f} / {den[str(s)][name]['ssim']:.3f}" for s in SIGMAS]
        L.append(f"| {name} | " + " | ".join(cells) + f" | {den['25'][name]['seconds_per_image']:.2f} |")
    L.append("")
    for s in SIGMAS:
        r = den[str(s)]
        if "DnCNN (σ=25)" in r:
            d = rest.paired_difference(r["DnCNN (σ=25)"]["psnr_each"], r["BM3D"]["psnr_each"])
            b = rest.paired_difference(r["DnCNN blind"]["psnr_each"], r["BM3D"]["psnr_each"]) if "DnCNN blind" in r \
                else None
            L.append(f"- σ = {s}: DnCNN(σ=25) − BM3D = {d['mean']:+.2f} dB (95 % interval {d['low']:+.2f} to "
                     f"{d['high']:+.2f} over 3 photos)" + (f"; blind − BM3D = {b['mean']:+.2f} dB" if b else "")
                     + f"; DnCNN − NLM = {r['DnCNN (σ=25)']['psnr'] - r['NLM']['psnr']:+.2f} dB, − TV = "
                     f"{r['DnCNN (σ=25)']['psnr'] - r['TV']['psnr']:+.2f} dB"
                     + (f"; PatchMLP − NLM = {r['PatchMLP (σ=25)']['psnr'] - r['NLM']['psnr']:+.2f} dB"
                        if "PatchMLP (σ=25)" in r else ""))
    if "DnCNN (σ=25)" in den["25"]:
        ratio = den["25"]["BM3D"]["seconds_per_image"] / den["25"]["DnCNN (σ=25)"]["seconds_per_image"]
        L.append(f"- Speed at σ = 25: DnCNN {den['25']['DnCNN (σ=25)']['seconds_per_image']:.2f} s per photo, BM3D "
                 f"{den['25']['BM3D']['seconds_per_image']:.2f} s: ×{ratio:.1f}.")
    L += ["", "## Deblurring, inpainting, dirt and rain (centre 300² of the held-out photos)", "",
          "Classical deconvolutions are given the true kernel; the deblurring net is not. Inpainting methods are "
          "given the mask; the window net is not told where the dirt or rain is.", "",
          "| task / condition | method | PSNR dB | SSIM |", "|---|---|---|---|"]
    for key, rows in oth.items():
        for name, r in rows.items():
            L.append(f"| {key} | {name} | {r['psnr']:.2f} | {r['ssim']:.3f} |")
    L += ["", "## Tuning of the classical denoisers (128² crops of six training photos)", "",
          "| σ | TV weight per σ → PSNR | NLM h/σ̂ → PSNR |", "|---|---|---|"]
    for s, t in tune.items():
        L.append(f"| {s} | " + ", ".join(f"{k}: {v:.2f}" for k, v in t["tv"].items()) + " | " +
                 ", ".join(f"{k}: {v:.2f}" for k, v in t["nlm"].items()) + " |")
    L += ["", "## Checkpoints", "", "| model | CPU minutes | command |", "|---|---|---|"]
    for kind in rest.KINDS:
        if kind in info:
            L.append(f"| {kind} | {info[kind]['train_minutes']:.1f} | `{info[kind]['command']}` |")
        else:
            L.append(f"| {kind} | missing | |")
    return "\n".join(L)


def main() -> None:
    torch.manual_seed(0)
    device = course_lib.get_device()
    models, info = load_models(device)
    den = denoising(models, device)
    oth = others(models, device)
    tune = tuning()
    for rows in list(den.values()):
        for r in rows.values():
            r["psnr_each"] = [round(v, 4) for v in r["psnr_each"]]
    text = markdown(den, oth, tune, info, device)
    path = write_results("restoration", {"denoising": den, "others": oth, "tuning": tune, "checkpoints": info,
                                         "device": str(device)}, text)
    print(text)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
