import pytest
import torch
import torch.nn as nn

from course_lib.core import load_checkpoint, save_checkpoint


def _meta():
    return dict(task="toy", command="python -m course_lib.train toy", profile="fast", seed=0,
                metrics={"acc": 0.75}, config={"width": 4})


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    path = save_checkpoint(tmp_path / "toy.pt", model, **_meta())
    fresh = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    ckpt = load_checkpoint(path, fresh, task="toy")
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert ckpt["metrics"] == {"acc": 0.75} and ckpt["seed"] == 0 and ckpt["config"] == {"width": 4}
    assert ckpt["command"].startswith("python -m course_lib.train") and ckpt["library_version"]
    assert list(tmp_path.iterdir()) == [path], "no temporary file left behind"


def test_half_precision_loads_back_as_float32(tmp_path):
    model = nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "h.pt", model, half=True, **_meta())
    fresh = nn.Linear(3, 2)
    load_checkpoint(path, fresh)
    assert fresh.weight.dtype == torch.float32
    torch.testing.assert_close(fresh.weight, model.weight, atol=1e-3, rtol=1e-3)


def test_refuses_other_task(tmp_path):
    path = save_checkpoint(tmp_path / "toy.pt", nn.Linear(2, 2), **_meta())
    with pytest.raises(ValueError, match="holds a checkpoint for task 'toy', but task 'fcn-8s' was expected"):
        load_checkpoint(path, task="fcn-8s")


def test_refuses_mismatched_shapes(tmp_path):
    path = save_checkpoint(tmp_path / "toy.pt", nn.Linear(2, 3), **_meta())
    with pytest.raises(ValueError, match=r"does not fit Linear: shape mismatch weight: checkpoint \(3, 2\) vs model"):
        load_checkpoint(path, nn.Linear(2, 4))
    with pytest.raises(ValueError, match="missing"):
        load_checkpoint(path, nn.Sequential(nn.Linear(2, 3)))


def test_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Make it with `python -m course_lib.train fcn`"):
        load_checkpoint(tmp_path / "nope.pt", task="fcn-8s")
    # The task named is the one that writes the file, also where its name is longer than one word.
    for task, made_by in (("localization-dropout-spatial-s1", "localization-dropout"),
                          ("localization-longer16", "localization"), ("pose-detector-extra", "pose-control")):
        with pytest.raises(FileNotFoundError, match=rf"Make it with `python -m course_lib.train {made_by}`"):
            load_checkpoint(tmp_path / "nope.pt", task=task)


def test_corrupt_or_foreign_file(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="is not a readable checkpoint"):
        load_checkpoint(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="is not a convnet-course checkpoint"):
        load_checkpoint(foreign)


def test_failed_save_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "x.pt", nn.Linear(1, 1), **_meta())
    assert list(tmp_path.iterdir()) == []


def test_load_model_builds_from_the_recorded_config(tmp_path):
    from course_lib.core import load_model, num_params, round_to_half

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    path = save_checkpoint(tmp_path / "toy.pt", model, **_meta())
    built_with = []

    def build(cfg):
        built_with.append(cfg)
        return nn.Sequential(nn.Conv2d(1, cfg["width"], 3), nn.BatchNorm2d(cfg["width"]))

    loaded, ckpt = load_model(path, build, task="toy", device="cpu")
    assert built_with == [{"width": 4}] and not loaded.training and ckpt["metrics"] == {"acc": 0.75}
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="task 'toy', but task 'other' was expected"):
        load_model(path, build, task="other")
    with pytest.raises(ValueError, match=r"does not fit Sequential: .*shape mismatch"):
        load_model(path, lambda cfg: nn.Sequential(nn.Conv2d(1, 5, 3), nn.BatchNorm2d(5)), task="toy")
    with pytest.raises(TypeError, match="build must return a torch.nn.Module, but returned dict"):
        load_model(path, lambda cfg: {}, task="toy")
    # the two small module helpers
    assert num_params(model) == 4 * 9 + 4 + 4 + 4 and num_params(model, trainable_only=True) == 48
    half = round_to_half(nn.Linear(1, 1))
    assert all(torch.equal(p, p.half().float()) for p in half.parameters())
