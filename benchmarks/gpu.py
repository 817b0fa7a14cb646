"""GPU training throughput of every method: the training loop's own step against the model's
limit and the GPU's measured bf16 matmul peak (issue: GPU at full speed).

For each method, in one process: the **in-loop** step (a batch gathered from the uint8 training
set resident on the GPU, its views drawn by ``ViewAugment`` there, then the loop's
``optimizer_step``: loss, backward, optimiser, momentum updates) and the **model-only** step (the
same ``optimizer_step`` on views already on the GPU). Rows give views/s, achieved TFLOP/s
(``torch.utils.flop_counter`` on one step) and their share of the measured peak of an
8192³ bf16 matmul. Then SimCLR in the default (contiguous) layout, with LARS tensor by tensor
instead of its multi-tensor step and, with ``--compile``, with the backbone compiled
(``compute.compile``) and compiled with CUDA graphs (mode ``reduce-overhead``). A variant that
fails gives a row with its error. Timing syncs the GPU only at a block's ends.

    python benchmarks/gpu.py --config config/config.yaml config/gpu_cifar10.yaml

It runs on the CPU too (``--device cpu``, small ``--width`` and ``--batch-size``), which is how
the test suite keeps it working without a GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from sslbench.config import layered_config
from sslbench.data.augment import ViewAugment, view_specs
from sslbench.device import Compute, select_compute
from sslbench.methods import METHODS, build_method
from sslbench.methods.base import SSLMethod
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.recipes import method_optimizer, method_params, method_views
from sslbench.regularisers.base import Regulariser
from sslbench.training.loop import (
    draw_views,
    optimizer_step,
    place,
    resident,
    training_optimizer,
)
from sslbench.training.optim import OptimSpec

ROOT = Path(__file__).resolve().parents[1]
PEAK_SIDE = 8192  # the matmul whose bf16 rate is the roofline (H100 dense bf16: ≈ 790 TFLOP/s)
PEAK_REPS = 10


@dataclass(frozen=True)
class Variant:
    """A row's setting: its name, the compute, the backbone's torch.compile mode beyond
    ``compute.compile`` (None: none) and whether LARS takes its multi-tensor step."""

    name: str
    compute: Compute
    compile_mode: str | None = None
    foreach: bool = True


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, side: int) -> float:
    """FLOP/s of a ``side``³ bf16 matmul (mean of PEAK_REPS after one warm-up)."""
    a = torch.randn(side, side, device=device, dtype=torch.bfloat16)
    b = torch.randn(side, side, device=device, dtype=torch.bfloat16)
    torch.mm(a, b)
    synchronize(device)
    started = time.perf_counter()
    for _ in range(PEAK_REPS):
        torch.mm(a, b)
    synchronize(device)
    return 2 * side**3 * PEAK_REPS / (time.perf_counter() - started)


def build(name: str, config: dict, variant: Variant) -> tuple[SSLMethod, torch.optim.Optimizer]:
    """The method on the config's backbone with its recipe's optimiser, on the variant's compute
    (not yet compiled: :func:`measure` counts the FLOPs of the eager step first)."""
    torch.manual_seed(0)
    backbone = build_backbone(BackboneSpec(**config["pretrain"]["backbone"]))
    method = build_method(name, backbone, method_params(config, name)).train()
    place(method, dataclasses.replace(variant.compute, compile=False))
    spec = OptimSpec(**(method_optimizer(config, name)))
    optimizer = training_optimizer(method, spec, config["pretrain"]["batch_size"])
    for group in optimizer.param_groups:
        group["foreach"] = variant.foreach
    return method, optimizer


def time_steps(step, n: int, device: torch.device) -> float:  # noqa: ANN001 (a closure)
    """Seconds per call of ``step`` over ``n`` calls, after two warm-up calls."""
    for _ in range(2):
        step()
    synchronize(device)
    started = time.perf_counter()
    for _ in range(n):
        step()
    synchronize(device)
    return (time.perf_counter() - started) / n


def measure(
    name: str, config: dict, variant: Variant, images: torch.Tensor, steps: int
) -> dict[str, float]:
    """Seconds per in-loop and per model-only step, and the FLOPs of one step."""
    compute = variant.compute
    method, optimizer = build(name, config, variant)
    batch_size = config["pretrain"]["batch_size"]
    augment = ViewAugment(view_specs(method_views(config, name)), images.shape[-1])
    generator = torch.Generator().manual_seed(0)
    scaler = compute.grad_scaler()
    method.on_train_start(images.shape[0] // batch_size)
    none = Regulariser()

    def train_step(views: list[torch.Tensor]) -> torch.Tensor:
        return optimizer_step(method, none, optimizer, scaler, views, compute, 0.5, 0.5)

    # the epoch's order on the data's device, sliced per step, as the loop does
    order = torch.randperm(images.shape[0], generator=generator).to(images.device)
    steps_done = itertools.count()

    def in_loop() -> None:
        start = next(steps_done) * batch_size % (images.shape[0] - batch_size + 1)
        batch = images[order[start : start + batch_size]]
        train_step(draw_views(augment, batch, method.views, generator, compute))

    fixed = draw_views(augment, images[:batch_size], method.views, generator, compute)
    with FlopCounterMode(display=False) as counter:
        train_step(fixed)
    place(method, compute)  # compiles now when the setting says so
    if variant.compile_mode is not None:
        method.backbone.compile(mode=variant.compile_mode)
    return {
        "in_loop": time_steps(in_loop, steps, compute.device),
        "model": time_steps(lambda: train_step(fixed), steps, compute.device),
        "flops": float(counter.get_total_flops()),
        "views_per_step": batch_size * method.views,
        "host_syncs": host_syncs(in_loop, compute.device),
    }


def host_syncs(step, device: torch.device) -> str:  # noqa: ANN001 (a closure)
    """'none' when one call of ``step`` makes no host-device sync, else the first one
    (``torch.cuda.set_sync_debug_mode``: CUDA only, 'n/a' elsewhere)."""
    if device.type != "cuda":
        return "n/a"
    torch.cuda.set_sync_debug_mode("error")
    try:
        step()
    except RuntimeError as err:
        frames = traceback.extract_tb(err.__traceback__)
        ours = [f for f in frames if "site-packages" not in f.filename]  # not torch's
        where = f" at {Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else ""
        return str(err).splitlines()[0] + where
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return "none"


def rows(name: str, variant: str, result: dict[str, float], peak: float) -> list[dict]:
    return [
        {
            "method": name,
            "variant": variant,
            "step": step,
            "s_per_step": result[step],
            "views_per_s": result["views_per_step"] / result[step],
            "tflops": result["flops"] / result[step] / 1e12,
            "share_of_peak": result["flops"] / result[step] / peak,
            "host_syncs": result["host_syncs"] if step == "in_loop" else "",
        }
        for step in ("in_loop", "model")
    ]


def markdown_row(row: dict) -> str:
    if "error" in row:
        return f"| {row['method']} | {row['variant']} | failed: {row['error']} |"
    return (
        f"| {row['method']} | {row['variant']} | {row['step']} | "
        f"{1e3 * row['s_per_step']:.1f} | {row['views_per_s']:,.0f} | "
        f"{row['tflops']:.1f} | {100 * row['share_of_peak']:.1f} % | {row['host_syncs']} |"
    )


def settings(args: argparse.Namespace, compute: Compute) -> list[tuple[str, Variant]]:
    """(method, variant) rows in order: every method in the pipeline's setting, then SimCLR in
    the default layout, with LARS tensor by tensor and, with ``--compile``, compiled (slowest
    to start: last)."""
    out = [(method, Variant("pipeline", compute)) for method in args.methods]
    if "simclr" in args.methods:
        contiguous = dataclasses.replace(compute, channels_last=False)
        out.append(("simclr", Variant("contiguous", contiguous)))
        out.append(("simclr", Variant("lars_per_tensor", compute, foreach=False)))
        if args.compile:
            out.append(("simclr", Variant("compiled", dataclasses.replace(compute, compile=True))))
            out.append(("simclr", Variant("cuda_graphs", compute, compile_mode="reduce-overhead")))
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, nargs="+", default=[ROOT / "config" / "config.yaml"])
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--batch-size", type=int, help="default: the config's pretrain batch")
    parser.add_argument("--width", type=int, help="default: the config's backbone width")
    parser.add_argument("--images", type=int, default=50_000, help="resident uint8 images")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per row")
    parser.add_argument("--peak-side", type=int, default=PEAK_SIDE)
    parser.add_argument("--compile", action="store_true", help="also SimCLR compiled")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = layered_config(args.config)
    if args.batch_size:
        config["pretrain"]["batch_size"] = args.batch_size
    if args.width:
        config["pretrain"]["backbone"]["base_width"] = args.width
    compute = select_compute(args.device, config["compute"]["mixed_precision"])
    size = config["datasets"][config["pretrain"]["datasets"][0]]["image_size"]
    # random uint8 images: the augmentations and the network cost the same on any content
    pixels = torch.randint(256, (args.images, 3, size, size), dtype=torch.uint8)
    images = resident(pixels, compute)
    peak = matmul_peak(compute.device, args.peak_side)
    name = torch.cuda.get_device_name(compute.device) if compute.device.type == "cuda" else "CPU"
    print(
        f"{name}, torch {torch.__version__}, {compute.amp_dtype or 'fp32'}, batch "
        f"{config['pretrain']['batch_size']} × {size}², ResNet-18 width "
        f"{config['pretrain']['backbone']['base_width']}; bf16 matmul peak {peak / 1e12:.1f} "
        "TFLOP/s\n\n| method | variant | step | ms/step | views/s | TFLOP/s | share of peak "
        "| host syncs in a step |\n|---|---|---|---:|---:|---:|---:|---|",
        flush=True,
    )
    table = []
    for method, variant in settings(args, compute):
        try:
            measured = rows(
                method, variant.name, measure(method, config, variant, images, args.steps), peak
            )
        except Exception as err:  # noqa: BLE001 (a variant that fails is a result, not the end)
            measured = [{"method": method, "variant": variant.name, "error": repr(err)[:300]}]
        for row in measured:
            table.append(row)
            print(markdown_row(row), flush=True)
        if args.json:  # after every row, so a run cut short keeps what it measured
            args.json.write_text(json.dumps({"peak_flops": peak, "rows": table}, indent=1))


if __name__ == "__main__":
    main()
