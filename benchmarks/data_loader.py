"""Is the data loader the bottleneck? Clips per second delivered by ``VideoClassificationDataset`` + DataLoader
(decoding every clip, or with the decoded videos kept in memory as the course does; 0, 1, 2 workers) against the
clips per second the tiny SlowFast trains on, at the same batch size.

    python benchmarks/data_loader.py [--batches 20] [--batch-size 16] [--threads 2]

Prints one line per loader setting with the ratio loader / training (>= 1: the loader keeps up). Uses the
quick MotionShapes set (generated on first use) and the course's MotionShapes settings.

Measured on an idle 2-core machine (AMD EPYC), batch 16: training 259 clips/s; decoding every clip in the main
process 100 clips/s (ratio 0.39; 58 before one colour converter served a whole video instead of one per frame), the
decoded videos in memory 934 (3.60) with 0 workers. Decoding is what a loader without the in-memory videos waits on.
"""

import argparse
import time

import torch

from slowfast_lite.course import recipes
from slowfast_lite.data.motion_shapes import MotionShapes
from slowfast_lite.models import build_model


def loader_rate(dataset, batch_size, workers, batches):
    """Clips per second over ``batches`` batches (at most one epoch's), after one warm-up batch (worker start-up
    excluded)."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
                                         drop_last=True)
    batches = min(batches, len(loader) - 1)  # a new epoch would restart the workers
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch_size / (time.perf_counter() - start)


def training_rate(model, batch, batches):
    """Clips per second of SGD steps (forward, backward, update) on one fixed batch."""
    pathways, labels = batch[0], batch[1]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    model.train()
    for i in range(batches + 1):
        if i == 1:
            start = time.perf_counter()  # the first step pays one-off costs
        loss = torch.nn.functional.cross_entropy(model(pathways), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return batches * len(labels) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the main process")
    parser.add_argument("--model", default="slowfast_tiny")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = MotionShapes("quick", seed=0)
    model = build_model(args.model, num_classes=len(data.classes), crop_size=recipes.MOTION_DATA["crop_size"])
    decoding, _, _ = recipes.motion_datasets(model, data, cache_decoded=False)
    cached, _, _ = recipes.motion_datasets(model, data, cache_decoded=True)
    batch = next(iter(torch.utils.data.DataLoader(decoding, batch_size=args.batch_size)))
    steps = training_rate(model, batch, args.batches)
    print(f"{args.model} training: {steps:.1f} clips/s ({steps / args.batch_size:.2f} steps/s, batch "
          f"{args.batch_size}, {args.threads} threads)")
    rows = [("decoding every clip, 0 workers", decoding, 0)]
    for index in range(len(cached)):  # after the first epoch every video is in memory (forked workers too)
        cached[index]
    rows += [(f"decoded videos in memory, {workers} workers", cached, workers) for workers in (0, 1, 2)]
    for name, dataset, workers in rows:
        clips = loader_rate(dataset, args.batch_size, workers, args.batches)
        print(f"loader, {name}: {clips:.1f} clips/s -> loader / training = {clips / steps:.2f}")


if __name__ == "__main__":
    main()
