import math

import pytest
import torch

from slowfast_lite import ava_eval, detection, flops, train
from slowfast_lite.data import AVADataset
from slowfast_lite.data import synthetic_ava as sa
from slowfast_lite.data.ava_files import AVARow
from slowfast_lite.models import build_model


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("det") / "set"
    return sa.make_synthetic_ava(root, train_videos=1, val_videos=1, seconds=3, seed=4, exclusion_rate=0.0)


def tiny(pathways="slowfast"):
    torch.manual_seed(0)
    name = {"slowfast": "slowfast_tiny", "slow": "slow_tiny"}[pathways]
    return build_model(name, num_classes=6, detection=True)


def dataset(data, model, split="train", **kwargs):
    return AVADataset.for_model(model, data.video_dir, data.annotations(split), data.label_map, scale_range=(64, 64),
                                crop_size=None, test_scale=64, **kwargs)


def test_collate_puts_the_clip_index_before_each_box(data):
    ds = dataset(data, tiny())
    items = [ds[0], ds[1]]
    batch = detection.collate(items)
    k0, k1 = len(items[0]["boxes"]), len(items[1]["boxes"])
    assert [tuple(p.shape) for p in batch["pathways"]] == [(2, 3, 4, 64, 96), (2, 3, 16, 64, 96)]
    assert batch["boxes"].shape == (k0 + k1, 5)
    assert batch["boxes"][:, 0].tolist() == [0.0] * k0 + [1.0] * k1
    assert torch.equal(batch["boxes"][k0:, 1:], items[1]["boxes"])
    assert batch["labels"].shape == (k0 + k1, 6)
    assert batch["keys"] == [(items[0]["video_id"], items[0]["timestamp"])] * k0 + \
        [(items[1]["video_id"], items[1]["timestamp"])] * k1


def test_bce_loss_is_the_mean_over_boxes_and_classes():
    logits = torch.tensor([[0.0, 2.0], [-1.0, 3.0]], requires_grad=True)
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    expected = -(math.log(0.5) + math.log(1 - 1 / (1 + math.exp(-2))) + math.log(1 - 1 / (1 + math.exp(1)))
                 + math.log(1 / (1 + math.exp(-3)))) / 4
    assert detection.bce_loss(logits, labels).item() == pytest.approx(expected)


def test_a_batch_without_boxes_gives_zero_loss_and_zero_gradients():
    model = tiny()
    task = detection.DetectionTask()
    batch = {"pathways": flops.example_inputs(model, 1, 64), "boxes": torch.zeros(0, 5), "labels": torch.zeros(0, 6)}
    loss, count = task.loss(model, batch, "cpu")
    loss.backward()
    assert loss.item() == 0.0 and count == 1
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_task_loss_matches_the_model_on_a_batch(data):
    model = tiny().eval()
    batch = detection.collate([dataset(data, model)[0]])
    loss, count = detection.DetectionTask().loss(model, batch, "cpu")
    expected = torch.nn.functional.binary_cross_entropy_with_logits(model(batch["pathways"], batch["boxes"]),
                                                                    batch["labels"])
    assert count == len(batch["boxes"]) and loss.item() == pytest.approx(expected.item())


def test_predict_writes_one_row_per_box_and_class(data):
    model = tiny()
    ds = dataset(data, model, "val")
    rows = detection.predict(model, ds, batch_size=2)
    boxes = sum(len(entries) for *_, entries in ds.keyframes)
    assert len(rows) == boxes * len(ds.label_map)
    assert all(0 < r.score < 1 and r.action_id in ds.label_map for r in rows)
    assert model.training  # left as it was
    mean_ap, per_class = ava_eval.frame_map(ds.annotations, rows, sa.EVALUATED)
    assert 0 <= mean_ap <= 1 and set(per_class) <= set(sa.EVALUATED)


def test_ground_truth_scores_give_perfect_map_and_constant_scores_do_not(data):
    model = tiny()
    ds = dataset(data, model, "val")
    perfect = [AVARow(v, t, box, a, score=float(a in actions))
               for v, t, entries in ds.keyframes for box, actions, _ in entries for a in ds.label_map]
    assert ava_eval.frame_map(ds.annotations, perfect, sa.EVALUATED)[0] == 1.0
    constant = detection.constant_detections(ds)
    assert len(constant) == len(perfect) and {r.score for r in constant} == {0.5}
    assert ava_eval.frame_map(ds.annotations, constant, sa.EVALUATED)[0] < 1.0


def test_from_classifier_keeps_the_backbone_and_builds_a_box_head():
    classifier = build_model("slowfast_tiny", num_classes=8)
    model = detection.from_classifier(classifier, num_classes=6)
    assert model.config.detection and model.config.num_classes == 6
    ours, theirs = model.state_dict(), classifier.state_dict()
    backbone = [k for k in theirs if not k.startswith("head.")]
    assert backbone and all(torch.equal(ours[k], theirs[k]) for k in backbone)
    assert ours["head.projection.weight"].shape == (6, theirs["head.projection.weight"].shape[1])


def test_fit_trains_a_detector_and_validates_with_map(data):
    model = tiny("slow")
    train_set = dataset(data, model, training=True, proposals=data.proposals("train"))
    val_set = dataset(data, model, "val")
    task = detection.DetectionTask(evaluated=sa.EVALUATED)
    before = [p.detach().clone() for p in model.parameters()]
    history = train.fit(model, train_set, val_set, train.TrainConfig(epochs=1, batch_size=2, task=task,
                                                                     progress=False, device="cpu"))
    assert len(history) == 1 and 0 <= history.last["val_map"] <= 1
    assert math.isfinite(history.last["train_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_guess_scores_an_action_by_its_rate_among_people_with_the_same_other_visible_actions():
    key = ("v", 901)
    training = [AVARow("t", 901, (0, 0, 1, 1), a, person_id=p) for p, actions in enumerate(
        [{1}, {1}, {4}, {4, 5}, {3, 4}, {3}, {5}]) for a in actions]

    class Keyframes:  # the two attributes guess_detections reads from an AVADataset
        label_map = {1: "raise arms", 3: "walk", 4: "clap", 5: "jog"}
        keyframes = [(*key, [((0.1, 0.1, 0.5, 0.9), {1}, 1.0), ((0.5, 0.1, 0.9, 0.9), {3, 4}, 1.0),
                             ((0.2, 0.2, 0.4, 0.4), {4, 5}, 1.0)])]

    rows = detection.guess_detections(Keyframes(), training, visible=(1, 3))
    score = {(r.box[0], r.action_id): r.score for r in rows}
    assert len(rows) == 3 * 4
    # clap is not visible: people with raised arms never clap; walkers clap half the time; the rest 2 of 3
    assert score[0.1, 4] == 0.0 and score[0.5, 4] == 0.5 and score[0.2, 4] == pytest.approx(2 / 3)
    # a visible action is scored from the other visible actions only, never from itself
    assert score[0.1, 1] == pytest.approx(2 / 5)  # raised arms among the 5 people who do not walk
    assert score[0.5, 3] == pytest.approx(2 / 5)  # walking among the 5 people without raised arms


def test_synthetic_ava_datasets_fit_the_model_and_split_the_boxes(data):
    model = tiny("slow")
    train_set, val_gt, val_proposals = detection.synthetic_ava_datasets(model, data, 64, seed=3)
    assert train_set.training and train_set.boxes == "both" and train_set.cache_decoded
    assert (val_gt.boxes, val_proposals.boxes) == ("groundtruth", "proposals")
    assert {d.pathways for d in (train_set, val_gt, val_proposals)} == {"slow"}
    assert all(d.fast_grayscale and d.test_scale == 64 for d in (train_set, val_gt, val_proposals))
    assert tuple(train_set[0]["pathways"][0].shape) == (3, 4, 64, 96)  # the frame's own size: no crop
