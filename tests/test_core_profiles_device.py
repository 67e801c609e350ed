import random

import numpy as np
import pytest
import torch

import course_lib
from course_lib.core import profiles


def test_profile_reads_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert course_lib.profile() == "full"
    monkeypatch.setenv("COURSE_PROFILE", " FAST ")
    assert course_lib.profile() == "fast"


def test_profile_default_follows_cuda(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert course_lib.profile() == ("full" if torch.cuda.is_available() else "fast")


def test_bad_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    with pytest.raises(ValueError, match=r"COURSE_PROFILE must be one of \('fast', 'full'\), but found 'quick'"):
        course_lib.profile()
    with pytest.raises(ValueError, match="profile must be one of"):
        course_lib.settings("welcome", "medium")


def test_table_has_both_profiles_with_same_keys():
    for task, rows in profiles.TABLE.items():
        assert set(rows) == set(profiles.PROFILES), task
        assert set(rows["fast"]) == set(rows["full"]), f"{task}: fast and full must set the same keys"


def test_settings_returns_a_copy():
    row = course_lib.settings("welcome", "fast")
    row["epochs"] = 999
    assert course_lib.settings("welcome", "fast")["epochs"] != 999


def test_unknown_task_lists_tasks():
    with pytest.raises(ValueError, match="unknown task 'nope'; permitted tasks are"):
        course_lib.settings("nope")


def test_device_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert course_lib.get_device() == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE must name a device \(one of"):
        course_lib.get_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("COURSE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="no CUDA GPU is available"):
            course_lib.get_device()


def test_default_device_is_available(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = course_lib.get_device()
    assert torch.zeros(1, device=device).device.type == device.type


def test_seed_everything_reproduces_all_generators():
    def draw():
        return random.random(), float(np.random.rand()), torch.rand(3)

    course_lib.seed_everything(7)
    a = draw()
    course_lib.seed_everything(7)
    b = draw()
    assert a[:2] == b[:2]
    torch.testing.assert_close(a[2], b[2])
    g1, g2 = course_lib.seed_everything(3), course_lib.seed_everything(3)
    torch.testing.assert_close(torch.rand(2, generator=g1), torch.rand(2, generator=g2))
    with pytest.raises(TypeError, match="seed must be an int"):
        course_lib.seed_everything(1.5)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(2, 3, 16, 16)
    ref = conv(x)
    out = conv.to("cuda")(x.to("cuda")).cpu()
    torch.testing.assert_close(out, ref, rtol=1e-3, atol=1e-3)
