import pytest
import torch
import torch.nn as nn

import course_lib
from course_lib.core import LivePlot, fit, time_fn, to_device
from course_lib.core.toy import bars


def _model(width=8):
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(width * 16, 2),
    )


def _loss(model, batch):
    x, y = batch
    return nn.functional.cross_entropy(model(x), y)


def _train(seed):
    course_lib.seed_everything(seed)
    x, y = bars(1024, seed=0)
    xt, yt = bars(256, seed=1)
    loader = torch.utils.data.DataLoader(list(zip(x, y)), batch_size=64, shuffle=True)
    model = _model()
    history = fit(model, loader, _loss, epochs=4, lr=1e-2, progress=False,
                  callback=lambda m, h: {"acc": (m(xt).argmax(1) == yt).float().mean()})
    return model, history


def test_fit_lowers_the_loss_and_learns():
    _, history = _train(0)
    assert len(history["loss"]) == 4 * 16 and len(history["epoch_loss"]) == 4 and len(history["eval"]) == 4
    assert history["epoch_loss"][-1] < 0.5 * history["epoch_loss"][0]
    assert history["eval"][-1]["acc"] > 0.9
    assert all(isinstance(v, float) for v in history["loss"])


def test_fit_is_reproducible_with_a_seed():
    m1, h1 = _train(3)
    m2, h2 = _train(3)
    assert h1["loss"] == h2["loss"]
    for a, b in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(a, b)


def test_fit_clips_gradients_and_calls_back():
    # With SGD at lr = 1, one step moves the parameters by exactly the (clipped) gradient: its norm must be the
    # clip value, although the raw gradient is ~10^4 times larger.
    torch.manual_seed(0)
    seen = []
    model = nn.Linear(2, 1)
    data = [(torch.randn(4, 2) * 100, torch.randn(4, 1))]
    loss_fn = lambda m, b: ((m(b[0]) - b[1]) ** 2).mean()  # noqa: E731
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    raw = torch.autograd.grad(loss_fn(model, data[0]), list(model.parameters()))
    assert torch.cat([g.flatten() for g in raw]).norm() > 10.0
    fit(model, data, loss_fn, epochs=2, clip_grad=1e-3, progress=False, optimizer=torch.optim.SGD(
        model.parameters(), lr=1.0), callback=lambda m, h: seen.append((len(h["epoch_loss"]), m.training)))
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert seen == [(1, False), (2, False)]  # after each epoch, in eval mode; None adds no eval entry
    assert float((after - before).norm()) <= 2 * 1e-3 + 1e-6  # two steps, each at most the clip norm
    assert float((after - before).norm()) > 1e-3  # and the steps did happen


def test_fit_refuses_a_diverging_loss():
    model = nn.Linear(1, 1)
    data = [torch.ones(2, 1)]
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, step 1"):
        fit(model, data, lambda m, b: m(b).sum() * float("nan"), epochs=1, progress=False)


def test_fit_rejects_bad_epochs():
    with pytest.raises(ValueError, match="epochs must be ≥ 1"):
        fit(nn.Linear(1, 1), [], lambda m, b: None, epochs=0)


def test_to_device_handles_nested_batches():
    batch = {"x": torch.zeros(2), "meta": [torch.ones(1), "name"], "n": 3}
    out = to_device(batch, torch.device("cpu"))
    assert out["meta"][1] == "name" and out["n"] == 3 and out["x"].device.type == "cpu"


def test_time_fn_reports_median():
    calls = []
    t = time_fn(lambda: calls.append(1), warmup=2, repeats=5)
    assert len(calls) == 7
    assert t["repeats"] == 5 and t["min_ms"] <= t["median_ms"] and t["median_ms"] >= 0
    with pytest.raises(ValueError, match="repeats must be ≥ 1"):
        time_fn(lambda: None, repeats=0)


def test_live_plot_is_a_callback_that_passes_on_what_it_wraps():
    model, data = nn.Linear(1, 1), [torch.ones(2, 1)]
    history = fit(model, data, lambda m, b: m(b).pow(2).mean(), epochs=2, progress=False,
                  callback=LivePlot(lambda m, h: {"epochs_done": len(h["epoch_loss"])}))
    assert history["eval"] == [{"epochs_done": 1.0}, {"epochs_done": 2.0}]  # outside IPython it draws nothing
