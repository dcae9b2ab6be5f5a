"""Data-parallel training: ``torchrun --nproc_per_node 2`` on CPU (gloo) runs ``fit`` for a few steps."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

SCRIPT = textwrap.dedent("""
    import json, os, sys
    import torch
    from torch import nn
    from slowfast_lite.train import TrainConfig, fit

    class Data(torch.utils.data.Dataset):
        def __init__(self):
            self.x = torch.randn(16, 3, 2, 4, 4, generator=torch.Generator().manual_seed(0))
            self.y = torch.arange(16) % 2
        def __len__(self):
            return 16
        def __getitem__(self, i):
            return [self.x[i] + self.y[i]], int(self.y[i]), i

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.fc = nn.Conv3d(3, 4, 1), nn.BatchNorm3d(4), nn.Linear(4, 2)
        def forward(self, pathways):
            return self.fc(torch.relu(self.bn(self.conv(pathways[0]))).mean(dim=(2, 3, 4)))
    torch.manual_seed(0)  # every rank builds the same initial weights
    model = Net()
    out = sys.argv[1]
    history = fit(model, Data(), None, TrainConfig(epochs=2, batch_size=2, lr=0.1, progress=False, out_dir=out))
    rank = int(os.environ["RANK"])
    torch.save(model.state_dict(), os.path.join(out, f"weights{rank}.pt"))
    with open(os.path.join(out, f"steps{rank}.json"), "w") as f:
        json.dump({"epochs": len(history), "world": int(os.environ["WORLD_SIZE"])}, f)
""")


def test_torchrun_two_cpu_processes(tmp_path):
    script = tmp_path / "ddp_fit.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(script), str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # rank 0 logs and saves; rank 1 neither (its history stays empty)
    assert json.loads((tmp_path / "steps0.json").read_text()) == {"epochs": 2, "world": 2}
    assert json.loads((tmp_path / "steps1.json").read_text())["epochs"] == 0
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["epoch"] == 2
    assert len(json.loads((tmp_path / "history.json").read_text())) == 2
    # gradients are averaged across ranks: both end with the same weights
    a, b = (torch.load(tmp_path / f"weights{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a if not k.endswith("running_mean") and "running_var" not in k)
    first = torch.load(tmp_path / "weights0.pt", weights_only=True)["conv.weight"]
    assert not torch.equal(first, _initial_conv())  # it did train


def _initial_conv():
    torch.manual_seed(0)
    return torch.nn.Conv3d(3, 4, 1).weight.detach()


if not hasattr(torch.distributed, "is_available") or not torch.distributed.is_available():
    pytestmark = pytest.mark.skip("torch.distributed is not available in this build")
