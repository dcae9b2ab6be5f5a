import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from slowfast_lite import models, viz  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_network_diagram_reads_the_model(ax):
    drawn = viz.plot_network(ax, "slowfast_r50_4x16", 224, highlight=(2,))
    assert drawn["slow"][0] == "input: 4x224^2, 3" and drawn["fast"][0] == "input: 32x224^2, 3"
    assert drawn["slow"][-1] == "res5: 4x7^2, 2048" and drawn["fast"][-1] == "res5: 32x7^2, 256"
    assert drawn["laterals"] == {1: "T-conv: +16 channels", 2: "T-conv: +64 channels", 3: "T-conv: +128 channels",
                                 4: "T-conv: +256 channels"}
    assert "2304 features" in drawn["head"] and "400" in drawn["head"]
    bold = [t for t in ax.texts if t.get_fontweight() == "bold" and "T-conv" in t.get_text()]
    assert len(bold) == 1 and "+64" in bold[0].get_text()


def test_network_diagram_follows_the_config(ax):
    drawn = viz.plot_network(ax, models.CONFIGS["slowfast_r50_8x8"].replace(fusion="tsample"), 256)
    assert drawn["slow"][2] == "res2: 8x64^2, 256" and drawn["fast"][2] == "res2: 32x64^2, 32"
    assert drawn["laterals"][1] == "T-sample: +8 channels"
    plt.cla()
    drawn = viz.plot_network(ax, "slow_r50_4x16")
    assert "fast" not in drawn and drawn["laterals"] == {} and "2048 features" in drawn["head"]
    assert not any("non-local" in t.get_text() for t in ax.texts)
    plt.cla()
    viz.plot_network(ax, "slowfast_r50_4x16_nl")
    texts = [t.get_text() for t in ax.texts]
    assert "res3\n+2 non-local" in texts and "res4\n+3 non-local" in texts
