"""CPU training throughput: the pipeline's step against the model's limit and a conventional
input pipeline, with the machine's measured peaks as the roofline (issue: CPU throughput).

For every method on the narrow backbone (and SimCLR on the full-width ResNet-18) it times, in
one process and interleaved block by block:

(a) ``full``  — the step as the training loop runs it, in the pipeline's CPU precision and
    layout: both views augmented on the uint8 batch by ``ViewAugment``, the method's loss,
    backward, the optimiser step;
(b) ``model`` — forward + backward + optimiser on views already in memory (the model limit);
(c) ``conventional`` — torchvision ``ImageFolder`` of PNGs with lightly's ``SimCLRTransform``
    (PIL, per image) in a ``DataLoader`` with 2 workers, the way lightly's and solo-learn's CPU
    examples feed a model; same model, batch and optimiser; in fp32 and the default layout as
    they run it, and again in the pipeline's precision and layout, so that the last ratio
    compares the input pipelines alone.

Each row reports s/step, images/s (source images; each gives ``views`` augmented images),
achieved FLOP/s (``torch.utils.flop_counter`` on one step) as a share of the measured
3×3-convolution peak of the row's precision, CPU user/sys seconds and minor page faults per
step of this process.
Then the model-only step of SimCLR in fp32 and bf16, each in both layouts, and the allocator
fix: the same step in a child process without and with the glibc tunables the pipeline sets.

    python benchmarks/throughput.py --threads 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import yaml
from lightly.transforms import SimCLRTransform
from PIL import Image
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode
from torchvision.datasets import ImageFolder

from sslbench.cli import limit_threads
from sslbench.data.augment import ViewAugment, view_specs
from sslbench.data.trifeature import generate_trifeature
from sslbench.device import CPU, Compute, select_compute
from sslbench.methods import METHODS, build_method
from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.recipes import method_optimizer, method_params, method_views
from sslbench.regularisers.base import Regulariser
from sslbench.training.loop import optimizer_step, place, training_optimizer
from sslbench.training.optim import OptimSpec

ROOT = Path(__file__).resolve().parents[1]
GLIBC_TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"


@dataclass(frozen=True)
class Sample:
    seconds: float
    user: float
    system: float
    faults: float


@contextlib.contextmanager
def measured(steps: int, out: list[Sample]) -> Iterator[None]:
    """Wall, user and system seconds and minor page faults per step of this process."""
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    yield
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    out.append(
        Sample(
            wall / steps,
            (after.ru_utime - before.ru_utime) / steps,
            (after.ru_stime - before.ru_stime) / steps,
            (after.ru_minflt - before.ru_minflt) / steps,
        )
    )


def flop_rate(kernel: Callable[[], torch.Tensor], flops: float, reps: int = 5) -> float:
    """FLOP/s of ``kernel`` (``flops`` per call) after one warm-up call."""
    kernel()
    started = time.perf_counter()
    for _ in range(reps):
        kernel()
    return flops * reps / (time.perf_counter() - started)


def peak_flops() -> dict[str, float]:
    """Measured FLOP/s of large fp32/bf16 matmuls and 3×3 convolutions (the roofline)."""
    results = {}
    n, batch, channels, side = 2048, 128, 64, 32
    for dtype in (torch.float32, torch.bfloat16):
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        x = torch.randn(batch, channels, side, side, dtype=dtype)
        w = torch.randn(channels, channels, 3, 3, dtype=dtype)
        label = str(dtype).removeprefix("torch.")
        results[f"matmul {label}"] = flop_rate(partial(torch.mm, a, b), 2 * n**3)
        results[f"conv3x3 {label}"] = flop_rate(
            partial(torch.nn.functional.conv2d, x, w, padding=1),
            2 * batch * channels * side * side * channels * 9,
        )
    return results


def training_step(
    method: SSLMethod, optimizer: torch.optim.Optimizer, compute: Compute = CPU
) -> Callable[[list[torch.Tensor]], None]:
    """The training loop's own step (:func:`sslbench.training.loop.optimizer_step`, no
    regulariser) in ``compute``'s precision on views already in its layout (see
    :func:`in_layout`)."""
    scaler = compute.grad_scaler()
    none = Regulariser()

    def step(views: list[torch.Tensor]) -> None:
        optimizer_step(method, none, optimizer, scaler, views, compute, 0.5, 0.5)

    return step


def in_layout(views: list[torch.Tensor], compute: Compute) -> list[torch.Tensor]:
    """The views in ``compute``'s memory layout, as the training loop hands them to the model."""
    return [v.contiguous(memory_format=compute.memory_format) for v in views]


def next_views(batches: Iterator, views: int, compute: Compute) -> list[torch.Tensor]:
    """The next loader batch's ``views`` views in ``compute``'s layout."""
    return in_layout(list(next(batches)[0][:views]), compute)


def step_flops(step: Callable[[list[torch.Tensor]], None], views: list[torch.Tensor]) -> float:
    """Floating-point operations of one step (forward and backward), as torch counts them."""
    with FlopCounterMode(display=False) as counter:
        step(views)
    return float(counter.get_total_flops())


def image_folder(images: torch.Tensor, root: Path) -> Path:
    """The batch written as PNGs in one ImageFolder class (the conventional pipeline's input)."""
    folder = root / "train" / "all"
    folder.mkdir(parents=True)
    for i, image in enumerate(images.permute(0, 2, 3, 1).numpy()):
        Image.fromarray(image).save(folder / f"{i:05d}.png")
    return root / "train"


def conventional_loader(root: Path, image_size: int, batch_size: int, workers: int) -> DataLoader:
    transform = SimCLRTransform(
        input_size=image_size, cj_strength=0.5, gaussian_blur=0.0, min_scale=0.08
    )
    return DataLoader(
        ImageFolder(root, transform=transform),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
    )


def build(
    name: str, config: dict, width: int, compute: Compute = CPU
) -> tuple[SSLMethod, torch.optim.Optimizer]:
    torch.manual_seed(0)
    backbone = build_backbone(BackboneSpec("resnet18", width, "cifar"))
    method = build_method(name, backbone, method_params(config, name)).train()
    place(method, compute)
    spec = OptimSpec(**method_optimizer(config, name))
    return method, training_optimizer(method, spec, config["pretrain"]["batch_size"])


def compare_pipelines(
    name: str,
    config: dict,
    width: int,
    images: torch.Tensor,
    folder: Path,
    args: argparse.Namespace,
    pipeline: Compute,
) -> dict[str, object]:
    """(a) full and (b) model-only steps in the pipeline's CPU precision and layout
    (``pipeline``), and (c) the conventional step, in fp32 and the default layout as lightly's
    and solo-learn's CPU examples run it and (d) in the pipeline's precision and layout (so the
    input pipeline is compared alone), interleaved in blocks."""
    method, optimizer = build(name, config, width, pipeline)
    step = training_step(method, optimizer, pipeline)
    conventional_method, conventional_optimizer = build(name, config, width)
    conventional_steps = {
        "conventional": training_step(conventional_method, conventional_optimizer),
        "conventional_pipeline_precision": training_step(
            *build(name, config, width, pipeline), pipeline
        ),
    }
    layouts = {"conventional": CPU, "conventional_pipeline_precision": pipeline}
    augment = ViewAugment(view_specs(method_views(config, name)), images.shape[-1])
    generator = torch.Generator().manual_seed(0)

    def augmented() -> list[torch.Tensor]:
        views = [augment(images, v, generator) for v in range(method.views)]
        return in_layout(views, pipeline)

    fixed = augmented()
    flops = step_flops(step, fixed)
    samples: dict[str, list[Sample]] = {"full": [], "model": []} | {k: [] for k in layouts}
    for _ in range(args.rounds):
        step(augmented())
        with measured(args.steps, samples["full"]):
            for _ in range(args.steps):
                step(augmented())
        step(fixed)
        with measured(args.steps, samples["model"]):
            for _ in range(args.steps):
                step(fixed)
        for setting, conventional_step in conventional_steps.items():
            loader = conventional_loader(folder, images.shape[-1], images.shape[0], args.workers)
            batches, layout = iter(loader), layouts[setting]
            conventional_step(next_views(batches, method.views, layout))  # worker start-up
            with measured(args.steps, samples[setting]):
                for _ in range(args.steps):
                    conventional_step(next_views(batches, method.views, layout))
            del batches, loader
    return {"flops": flops} | {
        setting: Sample(
            *(sum(getattr(s, f) for s in runs) / len(runs) for f in Sample.__dataclass_fields__)
        )
        for setting, runs in samples.items()
    }


def model_only(
    config: dict,
    width: int,
    images: torch.Tensor,
    steps: int,
    compute: Compute = CPU,
) -> Sample:
    """Model-only SimCLR step (views already in memory) in ``compute``'s precision and layout."""
    method, optimizer = build("simclr", config, width, compute)
    views = in_layout([images.float() / 255 for _ in range(2)], compute)
    step = training_step(method, optimizer, compute)
    step(views)
    runs: list[Sample] = []
    with measured(steps, runs):
        for _ in range(steps):
            step(views)
    return runs[0]


def precision_name(compute: Compute) -> str:
    """``float32`` / ``bfloat16``, with the layout when it is channels_last."""
    dtype = str(compute.amp_dtype or torch.float32).removeprefix("torch.")
    return f"{dtype} channels_last" if compute.channels_last else dtype


PRECISIONS = {
    "fp32": CPU,
    "fp32 channels_last": Compute(torch.device("cpu"), channels_last=True),
    "bf16 autocast": Compute(torch.device("cpu"), torch.bfloat16),
    "bf16 autocast channels_last": Compute(torch.device("cpu"), torch.bfloat16, True),
}


def allocator_child(args: argparse.Namespace) -> None:
    """Child process: time the model-only full-width SimCLR step, print JSON."""
    limit_threads(args.threads)  # as every pipeline job
    config = yaml.safe_load(args.config.read_text())
    images = batch_images(args)
    print(json.dumps(vars(model_only(config, 64, images, args.steps))))


def allocator_comparison(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The same model-only step in child processes without and with the glibc tunables."""
    out = {}
    for label, tunables in (
        ("default glibc malloc", None),
        ("pipeline's GLIBC_TUNABLES", GLIBC_TUNABLES),
    ):
        env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
        if tunables:
            env["GLIBC_TUNABLES"] = tunables
        cmd = [sys.executable, __file__, "--allocator-child", "--threads", str(args.threads)]
        cmd += ["--steps", str(args.allocator_steps), "--batch-size", str(args.batch_size)]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        out[label] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def batch_images(args: argparse.Namespace, batches: int = 1) -> torch.Tensor:
    data = generate_trifeature(n=args.batch_size * batches, image_size=args.image_size, seed=0)
    return torch.from_numpy(data.images).permute(0, 3, 1, 2).contiguous()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--narrow-width", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per block")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved blocks per setting")
    parser.add_argument(
        "--allocator-steps",
        type=int,
        default=6,
        help="timed steps of each allocator child (the heap can still grow in the first few)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="conventional DataLoader workers")
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--allocator-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.allocator_child:
        allocator_child(args)
        return
    limit_threads(args.threads)  # as every pipeline job
    config = yaml.safe_load(args.config.read_text())
    images = batch_images(args)
    peaks = peak_flops()
    print(
        f"batch {args.batch_size} source images of {args.image_size}², {args.threads} threads, "
        f"GLIBC_TUNABLES {'set' if os.environ.get('GLIBC_TUNABLES') else 'unset'}\n"
    )
    print("| roofline | GFLOP/s |\n|---|---:|")
    for name, value in peaks.items():
        print(f"| {name} | {value / 1e9:.0f} |")
    pipeline = select_compute("cpu", config["compute"]["mixed_precision"])
    precision = {
        "full": precision_name(pipeline),
        "model": precision_name(pipeline),
        "conventional": precision_name(CPU),
        "conventional_pipeline_precision": precision_name(pipeline),
    }
    print(
        "\n| method | backbone | setting | precision | s/step | images/s | GFLOP/s "
        "| % of its conv peak | user s/step | sys s/step | minor faults/step "
        "| full ÷ model | full ÷ conventional | full ÷ conventional (same precision) |"
    )
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [(name, args.narrow_width) for name in args.methods] + [("simclr", 64)]
    with tempfile.TemporaryDirectory() as tmp:
        # one epoch of the folder covers a block: a warm-up batch and the timed steps
        folder = image_folder(batch_images(args, args.steps + 1), Path(tmp))
        for name, width in rows:
            result = compare_pipelines(name, config, width, images, folder, args, pipeline)
            full = result["full"]
            ratios = " | ".join(
                f"{result[other].seconds / full.seconds:.2f}"
                for other in ("model", "conventional", "conventional_pipeline_precision")
            )
            for setting in precision:
                s = result[setting]
                achieved = result["flops"] / s.seconds
                peak = peaks[f"conv3x3 {precision[setting].split()[0]}"]
                print(
                    f"| {name} | R18 w{width} | {setting} | {precision[setting]} | "
                    f"{s.seconds:.3f} | {args.batch_size / s.seconds:.0f} | "
                    f"{achieved / 1e9:.0f} | {100 * achieved / peak:.0f} | "
                    f"{s.user:.2f} | {s.system:.2f} | "
                    f"{s.faults:.0f} | {ratios if setting == 'full' else ' | | '} |",
                    flush=True,
                )
    print(
        "\n| SimCLR model-only step | backbone | s/step | minor faults/step |\n|---|---|---:|---:|"
    )
    for width in (args.narrow_width, 64):
        for label, compute in PRECISIONS.items():
            s = model_only(config, width, images, args.steps, compute)
            print(f"| {label} | R18 w{width} | {s.seconds:.3f} | {s.faults:.0f} |", flush=True)
    print("\n| allocator (child process, R18 w64 model-only) | s/step | minor faults/step |")
    print("|---|---:|---:|")
    for label, s in allocator_comparison(args).items():
        print(f"| {label} | {s['seconds']:.3f} | {s['faults']:.0f} |")


if __name__ == "__main__":
    main()
