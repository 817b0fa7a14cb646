"""Training throughput of every registered SSL method on one backbone and batch.

One timed step is what the training loop does: both views augmented from uint8 images, the
method's loss (forward), backward, ``before_optimizer_step``, the optimiser step and
``on_step_end``. Each method gets the same ResNet-18 (``--base-width``, CIFAR stem), the same
batch of Trifeature images and its heads from the ``methods`` block of ``--config``
(default ``config/config.yaml``), with the config's optimiser. One warm-up step is not timed.

    python benchmarks/method_throughput.py --batch-size 256 --image-size 32 --base-width 16 \\
        --steps 5 --threads 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from sslbench.data.augment import AugmentSpec, BatchAugment
from sslbench.data.trifeature import generate_trifeature
from sslbench.methods import METHODS, build_method
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.training.optim import OptimSpec, build_optimizer

ROOT = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--base-width", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5, help="timed steps after 1 warm-up step")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    return parser.parse_args()


def time_method(
    name: str,
    params: dict,
    images: torch.Tensor,
    args: argparse.Namespace,
    optim: OptimSpec,
    augment: AugmentSpec,
) -> dict[str, float]:
    torch.manual_seed(0)
    backbone = build_backbone(BackboneSpec("resnet18", args.base_width, "cifar"))
    method = build_method(name, backbone, params).train()
    optimizer = build_optimizer(method, optim)
    transform = BatchAugment(augment, images.shape[-1])
    generator = torch.Generator().manual_seed(0)
    total = args.steps + 1

    def step(i: int) -> None:
        views = [transform(images, generator) for _ in range(method.views)]
        loss = method.loss(views)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        method.before_optimizer_step(i / total)
        optimizer.step()
        method.on_step_end((i + 1) / total)

    step(0)  # warm-up
    started = time.perf_counter()
    for i in range(1, total):
        step(i)
    seconds = (time.perf_counter() - started) / args.steps
    trainable = sum(p.numel() for p in method.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in method.parameters() if not p.requires_grad)
    return {
        "seconds": seconds,
        "images": args.batch_size / seconds,
        "trainable": trainable,
        "frozen": frozen,
    }


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    config = yaml.safe_load(args.config.read_text())
    optim = OptimSpec(**config["pretrain"]["optimizer"])
    augment = AugmentSpec(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in config["augment"].items()}
    )
    data = generate_trifeature(n=args.batch_size, image_size=args.image_size, seed=0)
    images = torch.from_numpy(data.images).permute(0, 3, 1, 2).contiguous()
    print(
        f"ResNet-18 width {args.base_width}, batch {args.batch_size} × 2 views of "
        f"{args.image_size}², {args.threads} thread(s), optimiser {optim.name}, "
        f"{args.steps} timed steps after 1 warm-up; heads from {args.config.name}\n"
    )
    print("| method | s / step | images / s | trainable params | frozen params |")
    print("|---|---:|---:|---:|---:|")
    for name in args.methods:
        r = time_method(name, config["methods"][name], images, args, optim, augment)
        print(
            f"| {name} | {r['seconds']:.2f} | {r['images']:.0f} | {r['trainable']:,} | "
            f"{r['frozen']:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
