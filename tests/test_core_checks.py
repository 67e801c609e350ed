import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from course_lib.core import check_choice, check_positive_int, check_same_shape, check_tensor


def test_dims_message_names_layout_and_shape():
    with pytest.raises(ValueError, match=r"heatmaps must be \(B, J, H, W\); got \(2, 64, 64\)"):
        check_tensor(torch.zeros(2, 64, 64), "heatmaps", dims="B J H W")


def test_shape_message():
    with pytest.raises(ValueError, match=r"images must have shape \(B, 3, H, W\); got \(1, 4, 8, 8\)"):
        check_tensor(torch.zeros(1, 4, 8, 8), "images", dims="B C H W", shape=(None, 3, None, None))


def test_dtype_messages():
    with pytest.raises(TypeError, match="labels must have an integer dtype; got torch.float32"):
        check_tensor(torch.zeros(3), "labels", dtype="int")
    with pytest.raises(TypeError, match="x must have a floating dtype; got torch.int64"):
        check_tensor(torch.zeros(3, dtype=torch.long), "x", dtype="float")
    with pytest.raises(TypeError, match="x must have one of torch.float32, torch.float64; got torch.float16"):
        check_tensor(torch.zeros(3, dtype=torch.half), "x", dtype=(torch.float32, torch.float64))
    with pytest.raises(TypeError, match="must be a torch.Tensor, but found list"):
        check_tensor([1, 2], "x")


def test_range_and_finite():
    with pytest.raises(ValueError, match=r"rgb must have values in \[0, 1\]; got values in \[-0.5, 2\]"):
        check_tensor(torch.tensor([-0.5, 2.0]), "rgb", min_value=0, max_value=1)
    with pytest.raises(ValueError, match="must be finite; it contains 1 NaN or inf"):
        check_tensor(torch.tensor([1.0, float("nan")]), "x", finite=True)


@given(st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_valid_tensors_pass_unchanged(shape):
    x = torch.rand(*shape)
    assert check_tensor(x, "x", shape=tuple(shape), dtype="float", min_value=0, max_value=1) is x


def test_choice_and_ints():
    check_choice(8, "pooling", (4, 8, 16))
    with pytest.raises(ValueError, match=r"pooling must be one of \(4, 8, 16\), but found 5"):
        check_choice(5, "pooling", (4, 8, 16))
    assert check_positive_int(3, "n") == 3
    with pytest.raises(ValueError, match="n must be ≥ 1, but found 0"):
        check_positive_int(0, "n")
    with pytest.raises(TypeError, match="n must be an int, but found float"):
        check_positive_int(2.0, "n")
    with pytest.raises(ValueError, match=r"pred and target must have the same shape; got \(2,\) and \(3,\)"):
        check_same_shape(torch.zeros(2), torch.zeros(3), "pred", "target")
