"""Multi-view testing: softmax summed over a video's views; accuracy, per-class accuracy, confusion matrix."""

import torch
from torch import nn

from slowfast_lite.evaluate import confusion_matrix, multi_view, per_class_accuracy, topk_accuracy


def test_topk_accuracy():
    scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]])
    labels = torch.tensor([1, 2, 0])
    assert abs(topk_accuracy(scores, labels, 1) - 1 / 3) < 1e-6
    assert abs(topk_accuracy(scores, labels, 2) - 2 / 3) < 1e-6
    assert topk_accuracy(scores, labels, 5) == 1.0  # k capped at the number of classes


def test_confusion_matrix_and_per_class():
    confusion = confusion_matrix(torch.tensor([0, 1, 1, 2, 0]), torch.tensor([0, 1, 2, 2, 2]), 4)
    assert confusion.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]]
    accuracy = per_class_accuracy(confusion)
    assert accuracy[:3].tolist() == [1.0, 1.0, 1 / 3] and torch.isnan(accuracy[3])


class Views(torch.utils.data.Dataset):
    """3 videos x 2 views; each view's input carries the logits the fake model returns."""

    num_videos, num_classes, classnames = 3, 3, ["a", "b", "c"]
    logits = torch.tensor([[[4.0, 0, 0], [0, 1.0, 0]],  # video 0: view 0 sure of a, view 1 mildly b -> a
                           [[0, 0.2, 0], [0, 0, 0.3]],  # video 1: two mild votes -> c (0.3 > 0.2)
                           [[0, 3.0, 0], [0, 3.0, 0]]])  # video 2: b
    labels = torch.tensor([0, 2, 0])

    def __len__(self):
        return 6

    def __getitem__(self, i):
        video, view = divmod(i, 2)
        return [self.logits[video, view]], int(self.labels[video]), video, view


class PassThrough(nn.Module):
    def forward(self, pathways):
        assert not self.training
        return pathways[0]


def test_multi_view_sums_softmax_per_video():
    model = PassThrough().train()
    result = multi_view(model, Views(), batch_size=4)
    assert model.training  # mode restored
    expected = torch.softmax(Views.logits, dim=-1).sum(1)
    assert torch.allclose(result.scores, expected)
    assert result.views.tolist() == [2, 2, 2]
    assert result.predictions.tolist() == [0, 2, 1]
    assert abs(result.top1 - 2 / 3) < 1e-6 and result.top5 == 1.0
    assert result.confusion[0].tolist() == [1, 1, 0]
    assert result.group_accuracy(["c"]) == 1.0 and result.group_accuracy([0]) == 0.5
    per_class = result.summary()["per_class"]
    assert per_class["a"] == 0.5 and per_class["c"] == 1.0 and per_class["b"] != per_class["b"]  # NaN: no videos
