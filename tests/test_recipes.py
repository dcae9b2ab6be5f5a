"""The course's recipes: the one settings source, the trained-model cache, the backbone shared by 06-08."""

import pytest
import torch

from slowfast_lite import course
from slowfast_lite.course import recipes
from slowfast_lite.models import build_model


def test_zero_init_final_bn_is_a_model_option_touching_only_the_marked_batchnorms():
    torch.manual_seed(0)
    reference = build_model("slow_tiny", num_classes=2, crop_size=32)
    torch.manual_seed(0)
    for_course = build_model("slow_tiny", num_classes=2, crop_size=32, zero_init_final_bn=False)
    marked = {name + ".weight" for name, m in reference.named_modules() if getattr(m, "zero_init", False)}
    assert marked and all(torch.all(reference.state_dict()[k] == 0) for k in marked)
    assert all(torch.all(for_course.state_dict()[k] == 1) for k in marked)
    changed = {k for k, v in for_course.state_dict().items() if not torch.equal(v, reference.state_dict()[k])}
    assert changed == marked


def test_load_or_train_trains_once_then_loads(tmp_path, monkeypatch):
    from slowfast_lite.data import motion_shapes

    monkeypatch.setenv("SLOWFAST_LITE_DATA", str(tmp_path))
    monkeypatch.setitem(motion_shapes.PROFILES, "quick", motion_shapes.Profile(train=1, val=1, test=1, size=32,
                                                                                frames=16))
    first = recipes.load_or_train("slow_tiny", epochs=1, batch_size=4, progress=False)
    assert first.checkpoint.is_relative_to(tmp_path / "trained") and len(first.history) == 1
    assert first.classnames == list(motion_shapes.CLASSES) and not first.model.training

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the cache")

    monkeypatch.setattr(recipes.train, "fit", no_training)
    again = recipes.load_or_train("slow_tiny", epochs=1, batch_size=4, progress=False, num_workers=0)  # run field
    assert again.checkpoint == first.checkpoint
    for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    same_model = {"fusion": "tconv", "beta": 1 / 4}  # slow_tiny's own values: the same model, the same entry
    assert recipes.load_or_train("slow_tiny", epochs=1, batch_size=4, progress=False,
                               model_overrides=same_model).checkpoint == first.checkpoint
    with pytest.raises(AssertionError, match="trained again"):
        recipes.load_or_train("slow_tiny", epochs=1, batch_size=4, lr=0.05, progress=False)  # another recipe
    with pytest.raises(AssertionError, match="trained again"):
        recipes.load_or_train("slow_tiny", epochs=1, batch_size=4, progress=False, model_overrides={"beta": 1 / 8})
    # the ablations' data changes are part of the key too; the default groups keep notebook 06's entry
    assert recipes.load_or_train("slow_tiny", epochs=1, batch_size=4, progress=False,
                                 groups=("appearance", "motion")).checkpoint == first.checkpoint
    for data_change in ({"groups": ("appearance", "motion", "binding")}, {"data_seed": 5},
                        {"data_overrides": {"fast_time_difference": True}}, {"data_size": {"train": 2}}):
        with pytest.raises(AssertionError, match="trained again"):
            recipes.load_or_train("slow_tiny", epochs=1, batch_size=4, progress=False, **data_change)


def test_notebook_06_parameters_show_the_recipe():
    defaults = course.notebooks.notebook_parameters(course.notebooks.NOTEBOOKS_DIR / "06_training.ipynb")
    for key in recipes.BACKBONE_KEYS:
        assert defaults[key] == recipes.MOTION_TRAIN[key], key


def test_an_override_of_06s_recipe_reaches_07_and_08():
    notebooks = sorted(course.notebooks.NOTEBOOKS_DIR.glob("0[678]_*.ipynb"))
    assert [p.stem[:2] for p in notebooks] == ["06", "07", "08"]
    resolved = course.parameters.resolve_parameters("quick", notebooks, {"06_training": {"epochs": 20, "lr": 0.05}})
    assert resolved["06_training"] == {"epochs": 20, "lr": 0.05}
    for stem in ("07_ava_detection", "08_your_own_video"):
        assert resolved[stem]["backbone_recipe"] == {"epochs": 20, "lr": 0.05}, stem
    assert "backbone_recipe" not in course.parameters.resolve_parameters("quick", notebooks)["07_ava_detection"]


def test_load_or_train_keeps_data_and_model_under_the_given_root(tmp_path, monkeypatch):
    from slowfast_lite.data import motion_shapes

    monkeypatch.setenv("SLOWFAST_LITE_DATA", str(tmp_path / "default"))
    monkeypatch.setitem(motion_shapes.PROFILES, "quick", motion_shapes.Profile(train=1, val=1, test=1, size=32,
                                                                                frames=16))
    trained = recipes.load_or_train("slow_tiny", data_root=tmp_path / "mine", epochs=1, batch_size=4, progress=False)
    assert trained.checkpoint.is_relative_to(tmp_path / "mine" / "trained")
    assert trained.data_root.is_relative_to(tmp_path / "mine" / "motion_shapes")
    assert not any((tmp_path / "default").rglob("*"))  # nothing written under the default root
