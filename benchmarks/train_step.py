"""How long does one training step of the course's tiny models take, and what would each CPU setting change?

The step as notebook 06 runs it (``recipes.MOTION_MODEL``, ``recipes.MOTION_TRAIN``'s batch, 32^2 crops, SGD with
momentum): forward, cross-entropy, backward, optimiser step, for ``slowfast_tiny``, ``slow_tiny`` and
``fast_tiny``. Variants timed side by side in one run (interleaved, so a busy machine slows all alike): eager in
the default memory format, and ``channels_last_3d`` (inputs and weights). With one thread PyTorch sends a
stride-1 pointwise 3D convolution of a batch under 16 to its slow reference kernel (``slow_conv3d``) instead of
oneDNN, which is what a simulated other CPU (``OMP_NUM_THREADS=1``) runs.
Printed: best-of-N milliseconds per step and the ratio eager / variant (> 1: the variant is faster). Then the step
as the course takes it: ``train.fit`` on the quick MotionShapes set for two epochs, milliseconds per step with the
data loading, in the first epoch (every video decoded) and the second (the decoded videos in memory).

Run: ``python benchmarks/train_step.py`` (``--threads 1 2``, ``--repeats 20``, ``--batch 8``).
"""

import argparse

import torch
from model_speed import interleaved_times  # benchmarks/ is the script's folder: one timing loop for both

from slowfast_lite import train, video
from slowfast_lite.course import recipes
from slowfast_lite.data.motion_shapes import MotionShapes
from slowfast_lite.models import build_model
from slowfast_lite.utils import cpu_model

MODELS = ("slowfast_tiny", "slow_tiny", "fast_tiny")
CLASSES = 8  # notebook 06's MotionShapes classes


def step_function(name, batch, channels_last):
    """One training step of a fresh model on fixed random clips, in the chosen memory format."""
    torch.manual_seed(0)
    model = build_model(name, num_classes=CLASSES, **recipes.MOTION_MODEL).train()
    inputs = [torch.randn(shape) for shape in model.config.input_shapes(batch)]
    if channels_last:
        model = model.to(memory_format=torch.channels_last_3d)
        inputs = [x.contiguous(memory_format=torch.channels_last_3d) for x in inputs]
    labels = torch.randint(0, CLASSES, (batch,))
    optimizer = torch.optim.SGD(model.parameters(), lr=recipes.MOTION_TRAIN["lr"], momentum=0.9)

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(list(inputs)), labels).backward()
        optimizer.step()

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=recipes.MOTION_TRAIN["batch_size"])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"training step, batch {args.batch}, best of {args.repeats}; CPU: {cpu_model()}")
    print(f"{'model':<15} {'threads':>7} {'eager ms':>9} {'ch.last ms':>11} {'eager/ch.last':>14}", flush=True)
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in MODELS:
            steps = {"eager": step_function(name, args.batch, False),
                     "channels_last": step_function(name, args.batch, True)}
            times = interleaved_times(steps, args.repeats, args.warmup, "best")
            print(f"{name:<15} {threads:>7} {times['eager']:>9.1f} {times['channels_last']:>11.1f} "
                  f"{times['eager'] / times['channels_last']:>14.2f}", flush=True)
    for name in MODELS:
        first, second = course_step_ms(name)
        print(f"{name}: train.fit as notebook 06 runs it, {torch.get_num_threads()} threads: {first:.1f} ms a step "
              f"in epoch 1 (decoding), {second:.1f} in epoch 2 (videos in memory)", flush=True)
    return 0


def course_step_ms(name):
    """Milliseconds per step, data loading included, of the first two epochs of notebook 06's training of ``name``."""
    data = MotionShapes("quick", seed=0)
    for cache in (video._decoded_cached, video._index_cached):  # epoch 1 of every model as in a fresh process
        cache.cache_clear()
    torch.manual_seed(0)
    model = build_model(name, num_classes=len(data.classes), **recipes.MOTION_MODEL)
    train_set, _, _ = recipes.motion_datasets(model, data)
    config = train.TrainConfig(**{**recipes.MOTION_TRAIN, "epochs": 2, "progress": False})
    history = train.fit(model, train_set, None, config)
    steps = len(train_set) // config.batch_size
    return tuple(1000 * t / steps for t in history["train_time"])


if __name__ == "__main__":
    raise SystemExit(main())
