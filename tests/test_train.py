"""The training engine: schedule, parameter groups, exact resume, refusals, the task protocol, the cache."""

import json
import math

import pytest
import torch
from torch import nn

from slowfast_lite import checkpoints, train
from slowfast_lite.train import ClassificationTask, History, ResumeError, TrainConfig, fit, learning_rate


class Toy(torch.utils.data.Dataset):
    """Clips (3, 2, 4, 4) of two classes, brighter or darker; optionally stops a run at (epoch, item)."""

    def __init__(self, n=24, seed=0, stop_at=None, mode="train"):
        g = torch.Generator().manual_seed(seed)
        self.y = torch.arange(n) % 2
        self.x = torch.randn(n, 3, 2, 4, 4, generator=g) + (2.0 * self.y - 1).view(-1, 1, 1, 1, 1)
        self.stop_at, self.mode, self.epoch = stop_at, mode, 0
        self.num_videos, self.labels = n, self.y

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        if self.stop_at == (self.epoch, i):
            raise KeyboardInterrupt("power cut")
        noise = torch.randn(3, 2, 4, 4, generator=torch.Generator().manual_seed(1000 * self.epoch + i))
        x = self.x[i] + 0.1 * noise  # augmentation that depends on (epoch, index) only
        if self.mode == "test":
            return [x], int(self.y[i]), i, 0
        return [x], int(self.y[i]), i


class TinyNet(nn.Module):
    def __init__(self, classes=2, width=4):
        super().__init__()
        self.conv = nn.Conv3d(3, width, 1)
        self.bn = nn.BatchNorm3d(width)
        self.drop = nn.Dropout(0.5)  # uses the global RNG: resume must restore it
        self.fc = nn.Linear(width, classes)

    def forward(self, pathways):
        return self.fc(self.drop(torch.relu(self.bn(self.conv(pathways[0]))).mean(dim=(2, 3, 4))))


def config(**kwargs):
    return TrainConfig(**{**dict(epochs=3, batch_size=4, lr=0.2, warmup_epochs=1, progress=False), **kwargs})


def test_learning_rate_warmup_then_cosine():
    cfg = TrainConfig(epochs=10, lr=0.1, warmup_epochs=2, warmup_start_lr=0.01, final_lr=0.001)
    lrs = [learning_rate(s, 100, cfg, steps_per_epoch=10) for s in range(100)]
    assert lrs[0] == pytest.approx(0.01)
    cosine_at_20 = 0.001 + 0.099 * (1 + math.cos(math.pi * 0.2)) / 2
    assert lrs[19] == pytest.approx(0.01 + (cosine_at_20 - 0.01) * 19 / 20)
    assert lrs[20] == pytest.approx(cosine_at_20)
    assert all(a < b for a, b in zip(lrs[:20], lrs[1:21], strict=True))  # warm-up rises
    assert all(a > b for a, b in zip(lrs[20:], lrs[21:], strict=False))  # cosine falls
    assert lrs[-1] == pytest.approx(0.001, abs=1e-4)
    no_warmup = TrainConfig(lr=0.1, warmup_epochs=0)
    assert learning_rate(0, 10, no_warmup, 5) == pytest.approx(0.1)


def test_no_weight_decay_on_batchnorm_and_biases():
    model = TinyNet()
    decay, no_decay = train.param_groups(model, 1e-4)
    assert decay["weight_decay"] == 1e-4 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model.conv.weight), id(model.fc.weight)}
    assert {id(p) for p in no_decay["params"]} == {id(p) for p in (model.conv.bias, model.bn.weight, model.bn.bias,
                                                                    model.fc.bias)}


def training_loss(model, data):
    """Cross-entropy of the model in eval mode (no dropout) over a whole data set."""
    model.eval()
    with torch.no_grad():
        x = torch.stack([data[i][0][0] for i in range(len(data))])
        return torch.nn.functional.cross_entropy(model([x]), data.y).item()


def test_fit_learns_logs_and_checkpoints(tmp_path):
    torch.manual_seed(0)
    model, data = TinyNet(), Toy(48)
    before = training_loss(model, data)
    history = fit(model, data, Toy(16, seed=1, mode="test"), config(epochs=6, out_dir=str(tmp_path)))
    assert len(history) == 6 and history["epoch"] == [1, 2, 3, 4, 5, 6]
    assert training_loss(model, data) < 0.5 * before
    assert history.last["val_top1"] >= 0.75
    assert History.read(tmp_path).records == json.loads(json.dumps(history.records))
    header = (tmp_path / "log.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["epoch", "lr", "train_loss"] and "val_top1" in header
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 6 and set(state["model_state"]) == set(model.state_dict())


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    torch.manual_seed(0)
    straight = TinyNet()
    fit(straight, Toy(), None, config(out_dir=str(tmp_path / "a")))

    torch.manual_seed(0)
    interrupted = TinyNet()
    with pytest.raises(KeyboardInterrupt):
        fit(interrupted, Toy(stop_at=(2, 5)), None, config(out_dir=str(tmp_path / "b")))  # dies in epoch 3
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["epoch"] == 2
    torch.manual_seed(123)  # a fresh process: other initial weights, other RNG state
    resumed = TinyNet()
    history = fit(resumed, Toy(), None, config(out_dir=str(tmp_path / "b")))
    assert history["epoch"] == [1, 2, 3]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_worker_processes_do_not_change_the_result():
    """The clip order and every augmentation depend on (seed, epoch, index) only, never on the loader's workers."""
    weights = []
    for workers in (0, 2):
        torch.manual_seed(0)
        model = TinyNet()
        fit(model, Toy(), None, config(epochs=2, num_workers=workers))
        weights.append(model.state_dict())
    for name, a in weights[0].items():
        assert torch.equal(a, weights[1][name]), name


def test_resume_with_another_recipe_is_refused(tmp_path):
    fit(TinyNet(), Toy(), None, config(epochs=1, out_dir=str(tmp_path)))
    with pytest.raises(ResumeError, match=r"different run .*lr: checkpoint 0.2, now 0.3"):
        fit(TinyNet(), Toy(), None, config(epochs=1, lr=0.3, out_dir=str(tmp_path)))
    fit(TinyNet(), Toy(), None, config(epochs=1, lr=0.3, out_dir=str(tmp_path), resume=False))  # start over: fine


def test_checkpoint_of_another_model_lists_the_keys(tmp_path):
    fit(TinyNet(), Toy(), None, config(epochs=1, out_dir=str(tmp_path)))
    with pytest.raises(checkpoints.CheckpointError, match=r"(?s)conv.weight.*fc"):
        fit(TinyNet(width=6), Toy(), None, config(epochs=1, out_dir=str(tmp_path)))


def test_a_task_object_replaces_the_classification_parts():
    class Regression:
        name = "regression"
        calls = []

        def collate(self, samples):
            self.calls.append("collate")
            return torch.utils.data.default_collate(samples)

        def loss(self, model, batch, device):
            self.calls.append("loss")
            out = model(batch[0])
            return ((out[:, 0] - batch[1].float()) ** 2).mean(), len(batch[1])

        def evaluate(self, model, dataset, config, device):
            return {"val_mse": 0.5}

    task = Regression()
    history = fit(TinyNet(), Toy(8), Toy(8), config(epochs=1, task=task))
    assert {"collate", "loss"} <= set(task.calls) and history.last["val_mse"] == 0.5
    assert TrainConfig(task=task).recipe()["task"] == "regression"


def test_classification_task_loss():
    model = TinyNet().eval()
    batch = ClassificationTask().collate([Toy(2)[0], Toy(2)[1]])
    loss, n = ClassificationTask().loss(model, batch, torch.device("cpu"))
    assert n == 2 and loss.item() == pytest.approx(nn.functional.cross_entropy(model(batch[0]), batch[1]).item())


def test_too_small_a_train_set_is_named():
    with pytest.raises(ValueError, match="fewer than one batch"):
        fit(TinyNet(), Toy(3), None, config(batch_size=4))


def test_train_and_evaluate_commands_on_motion_shapes(tmp_path, capsys):
    from slowfast_lite.__main__ import main
    from slowfast_lite.data.motion_shapes import MotionShapes

    data = MotionShapes("quick", seed=2, root=tmp_path / "data", train=1, val=1, test=1, size=32, frames=16)
    data.generate(progress=False)
    out = tmp_path / "run"
    assert main(["train", "--model", "slowfast_tiny", "--data", str(data.root), "--epochs", "1", "--batch-size",
                 "4", "--crop", "32", "--scale", "32", "40", "--fast-gray", "--out", str(out)]) == 0
    assert "done: 1 epochs" in capsys.readouterr().out
    model, settings = checkpoints.load_model(out / "checkpoint.pt")
    assert model.config.crop_size == 32 and settings["fast_grayscale"] and settings["classnames"][0] == "red"
    assert main(["evaluate", "--checkpoint", str(out / "checkpoint.pt"), "--data", str(data.csv("test")),
                 "--clips", "2", "--crops", "1", "--json", str(tmp_path / "result.json")]) == 0
    assert "8 videos x 2 views" in capsys.readouterr().out
    assert json.loads((tmp_path / "result.json").read_text())["videos"] == 8
    # weights in PySlowFast's layout record no model: evaluate is told which, and samples as its config says
    exported = checkpoints.save_pyslowfast(model, tmp_path / "exported.pyth")
    assert main(["evaluate", "--checkpoint", str(exported), "--model", "slowfast_tiny", "--data",
                 str(data.csv("test")), "--clips", "1", "--crops", "1"]) == 0
    assert "8 videos x 1 views" in capsys.readouterr().out


def test_exercise_checks_of_notebook_06(capsys):
    from slowfast_lite.course.exercises import training as exercises

    assert exercises.check_slow_positions([0, 5, 10, 15]) and not exercises.check_slow_positions([0, 4, 8, 12])

    def schedule(step, total):
        return learning_rate(step, total, TrainConfig(epochs=10, lr=0.1, warmup_epochs=2), 8)

    assert exercises.check_schedule(schedule) and not exercises.check_schedule(lambda step, total: 0.1)

    def summed(logits, video_index, num_videos):
        return torch.zeros(num_videos, logits.shape[1]).index_add_(0, video_index, logits.softmax(1))

    assert exercises.check_video_scores(summed)
    assert not exercises.check_video_scores(lambda logits, index, n: torch.zeros(n, 4).index_add_(0, index, logits))
    assert "raw logits" in capsys.readouterr().out


@pytest.mark.parametrize("speed, still", [(1.6, True), (3.2, True), (6.4, True), (2.0, False), (1.0, False),
                                          (0.0, False), (8.0, False), (16.0, False)])
def test_check_still_at_slow_rate_rejects_speeds_the_fast_pathway_cannot_see_either(speed, still):
    from slowfast_lite.course.exercises import training as exercises

    assert exercises.check_still_at_slow_rate(speed, period=8.0, slow_stride=5) == still
