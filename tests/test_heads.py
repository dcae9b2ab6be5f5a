import pytest
import torch

from slowfast_lite.models import ClassificationHead, RoIActionHead, init_weights, roi_align


def features(size, batch=2):
    return [torch.randn(batch, 16, 2, size, size), torch.randn(batch, 4, 8, size, size)]


def head(pool_size=7):
    torch.manual_seed(0)
    h = ClassificationHead([16, 4], 10, pool_size).eval()
    torch.nn.init.normal_(h.projection.weight, std=3.0)  # confident logits: averaging probabilities then matters
    return h


def test_training_size_gives_one_position_and_linear_on_the_average():
    h, xs = head(), features(7)
    assert h.position_logits(xs).shape == (2, 1, 1, 1, 10)
    pooled = torch.cat([x.mean(dim=(2, 3, 4)) for x in xs], dim=1)
    torch.testing.assert_close(h(xs), h.projection(pooled))
    torch.testing.assert_close(h.predict(xs), h(xs).softmax(-1))


def test_larger_input_is_classified_at_every_position_then_averaged():
    h, xs = head(), features(8)  # a 256^2 crop gives 8^2 res5 features: a 2x2 grid of 7x7 windows
    grid = h.position_logits(xs)
    assert grid.shape == (2, 1, 2, 2, 10)
    corner = torch.cat([x[:, :, :, 1:, 1:].mean(dim=(2, 3, 4)) for x in xs], dim=1)
    torch.testing.assert_close(grid[:, 0, 1, 1], h.projection(corner))
    torch.testing.assert_close(h(xs), grid.mean(dim=(1, 2, 3)))
    torch.testing.assert_close(h.predict(xs), grid.softmax(-1).mean(dim=(1, 2, 3)))
    assert not torch.allclose(h.predict(xs), h(xs).softmax(-1))  # PySlowFast averages probabilities


def test_smaller_input_and_global_pooling_give_one_position():
    assert head()(features(4)).shape == (2, 10)
    assert head(pool_size=None).position_logits(features(9)).shape == (2, 1, 1, 1, 10)


def test_roi_head_pools_each_box_from_time_averaged_features():
    torch.manual_seed(0)
    h = init_weights(RoIActionHead([16, 4], 5)).eval()
    xs = features(14)
    boxes = torch.tensor([[0, 16.0, 16.0, 160.0, 200.0], [1, 0.0, 0.0, 224.0, 224.0], [1, 50.0, 60.0, 90.0, 100.0]])
    logits = h(xs, boxes)
    assert logits.shape == (3, 5)
    pooled = [roi_align(x.mean(2), boxes, 7, 1 / 16, 0, True).amax(dim=(2, 3)) for x in xs]
    torch.testing.assert_close(logits, h.projection(torch.cat(pooled, dim=1)))
    torch.testing.assert_close(h.predict(xs, boxes), torch.sigmoid(logits))


@pytest.mark.parametrize("boxes,message", [(torch.zeros(3, 4), r"\(K, 5\)"), ([[0, 1, 2, 3, 4]], r"\(K, 5\)"),
                                           (torch.tensor([[2.0, 0, 0, 5, 5]]), r"batch_index must be in \[0, 1\]")])
def test_bad_boxes_are_refused(boxes, message):
    h = RoIActionHead([16, 4], 5)
    with pytest.raises(ValueError, match=message):
        h(features(14), boxes)
