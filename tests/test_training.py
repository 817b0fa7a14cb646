import dataclasses

import pytest
import torch

from sslbench.data.trifeature import generate_trifeature
from sslbench.device import Compute
from sslbench.methods import build_method
from sslbench.models.resnet import BackboneSpec, build_backbone
from sslbench.training.loop import NonFiniteLossError, TrainSpec, train
from sslbench.training.movement import parameter_snapshot, relative_weight_change
from sslbench.training.optim import OptimSpec


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    data = generate_trifeature(n=128, image_size=16, seed=0)
    return torch.from_numpy(data.images).permute(0, 3, 1, 2).contiguous()


def _model(seed: int = 0):
    torch.manual_seed(seed)
    backbone = build_backbone(BackboneSpec("resnet18", 4, "cifar"))
    params = {"temperature": 0.5, "projection_hidden_dim": 16, "projection_dim": 8}
    return build_method("simclr", backbone, params)


ADAM = OptimSpec("adam", 1e-3, 0.0, 0.9, 0.0, lr_batch_size=32, exclude_bias_n_norm=True)
SPEC = TrainSpec(epochs=3, batch_size=32, seed=0, optimizer=ADAM)


def test_training_lowers_the_loss(images, tmp_path):
    spec = dataclasses.replace(SPEC, epochs=6)
    history = train(_model(), images, spec, tmp_path)
    assert len(history) == 6
    assert history[-1]["loss"] < history[0]["loss"]


@pytest.mark.slow  # two training runs, one in CPU bf16
def test_mixed_precision_path_tracks_fp32_and_keeps_fp32_weights(images, tmp_path):
    # The CUDA autocast path, exercised on the CPU with bf16 (no GPU in CI): same data, seed
    # and steps as an fp32 run; the per-epoch losses stay close and the weights stay fp32.
    fp32 = train(_model(), images, SPEC, tmp_path / "fp32")
    model = _model()
    initial = [p.detach().clone() for p in model.parameters()]
    bf16 = train(
        model, images, SPEC, tmp_path / "bf16", compute=Compute(torch.device("cpu"), torch.bfloat16)
    )
    assert [r["loss"] for r in bf16] == pytest.approx([r["loss"] for r in fp32], abs=0.1)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), initial, strict=True))


@pytest.mark.slow  # two training runs
def test_channels_last_training_matches_the_default_layout(images, tmp_path):
    # Same arithmetic in another memory layout: one loss equal up to summation order, training
    # histories close (rounding differences grow over the steps), and the checkpointed weights
    # load into a model in the default layout.
    views = [images[:8].float() / 255, images[8:16].float() / 255]
    nhwc_views = [v.contiguous(memory_format=torch.channels_last) for v in views]
    nhwc_loss = _model().to(memory_format=torch.channels_last).loss(nhwc_views)
    assert nhwc_loss.item() == pytest.approx(_model().loss(views).item(), rel=1e-4)
    contiguous = train(_model(), images, SPEC, tmp_path / "nchw")
    model = _model()
    nhwc = Compute(torch.device("cpu"), channels_last=True)
    history = train(model, images, SPEC, tmp_path / "nhwc", compute=nhwc)
    assert [r["loss"] for r in history] == pytest.approx([r["loss"] for r in contiguous], abs=0.05)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    fresh = _model(seed=1)
    fresh.load_state_dict(model.state_dict())
    assert all(
        torch.equal(p, q) for p, q in zip(fresh.parameters(), model.parameters(), strict=True)
    )


def test_compiled_training_matches_eager_and_saves_the_same_keys(images, tmp_path):
    # torch.compile (compute.compile) on the CPU path: same data order and views, so the
    # per-epoch losses agree up to the compiled kernels' rounding; the checkpoint's keys are
    # the eager model's (the backbone is compiled in place, not wrapped).
    spec = dataclasses.replace(SPEC, epochs=2)
    eager = train(_model(), images, spec, tmp_path / "eager")
    model = _model()
    compiled = train(
        model,
        images,
        spec,
        tmp_path / "compiled",
        compute=Compute(torch.device("cpu"), compile=True),
    )
    assert [r["loss"] for r in compiled] == pytest.approx([r["loss"] for r in eager], abs=0.02)
    assert set(model.state_dict()) == set(_model().state_dict())


def test_checkpoint_per_epoch_and_only_the_newest_kept(images, tmp_path):
    train(_model(), images, dataclasses.replace(SPEC, keep_checkpoints=2), tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["epoch_0002.pt", "epoch_0003.pt"]


@pytest.mark.slow  # an interrupted and a resumed training run
def test_interrupted_run_resumes_to_the_same_weights(images, tmp_path):
    reference = _model()
    train(reference, images, SPEC, tmp_path / "full")

    class Interrupt(Exception):
        pass

    def stop_after_first_epoch(epoch, record):
        if epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(_model(), images, SPEC, tmp_path / "cut", on_epoch_end=stop_after_first_epoch)
    partial = tmp_path / "cut" / ".epoch_0002.pt.x1y2.tmp"  # a save a SIGKILL cut short
    partial.write_bytes(b"half a checkpoint")
    resumed = _model(seed=123)  # different init: everything must come from the checkpoint
    history = train(resumed, images, SPEC, tmp_path / "cut")
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert not partial.exists()
    for (name, a), (_, b) in zip(
        reference.state_dict().items(), resumed.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_a_truncated_newest_checkpoint_resumes_from_the_previous_one(images, tmp_path, caplog):
    """Every rerun had failed on a truncated newest checkpoint while the intact previous epoch's
    was never tried: now the broken one is named and removed, and training resumes before it."""
    two = dataclasses.replace(SPEC, epochs=2, keep_checkpoints=2)
    train(_model(), images, two, tmp_path)
    newest = tmp_path / "epoch_0002.pt"
    newest.write_bytes(newest.read_bytes()[:100])
    with caplog.at_level("INFO", logger="sslbench.training.loop"):
        history = train(_model(seed=123), images, SPEC, tmp_path)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert "epoch_0002.pt is unreadable" in caplog.text
    assert "epoch_0001.pt (epoch 1)" in caplog.text  # resumed, not restarted


def test_a_checkpoint_of_another_model_state_is_discarded_not_loaded(images, tmp_path):
    """A checkpoint whose model state has other entries (written by an older version, e.g.
    MoCo's queue before it moved into the project's InfoNCE) restarts the run instead of
    failing in load_state_dict."""
    one_epoch = dataclasses.replace(SPEC, epochs=1)
    train(_model(), images, one_epoch, tmp_path)
    (saved,) = tmp_path.glob("*.pt")
    state = torch.load(saved, weights_only=True)
    state["model"]["criterion.memory_bank.bank"] = torch.zeros(4, 8)  # an entry we no longer have
    torch.save(state, saved)
    history = train(_model(), images, one_epoch, tmp_path)
    assert [h["epoch"] for h in history] == [1]
    rewritten = torch.load(saved, weights_only=True)  # trained again, saved without the entry
    assert "criterion.memory_bank.bank" not in rewritten["model"]


def test_non_finite_loss_stops_with_method_epoch_and_step(images, tmp_path):
    model = _model()
    calls = {"n": 0}
    original = model.loss

    def loss_that_explodes(views):
        calls["n"] += 1
        value = original(views)
        return value * float("nan") if calls["n"] == 6 else value

    model.loss = loss_that_explodes
    with pytest.raises(NonFiniteLossError, match=r"simclr, regulariser none.*epoch 2, step 2"):
        train(model, images, SPEC, tmp_path)
    assert [p.name for p in tmp_path.glob("*.pt")] == ["epoch_0001.pt"]


def test_batch_larger_than_dataset_names_the_key(images, tmp_path):
    with pytest.raises(ValueError, match="pretrain.batch_size"):
        train(_model(), images, dataclasses.replace(SPEC, batch_size=1000), tmp_path)


def test_relative_weight_change_is_the_norm_ratio():
    layer = torch.nn.Linear(2, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 0.0]]))
        layer.bias.copy_(torch.tensor([0.0, 4.0]))
    start = parameter_snapshot(layer)
    assert relative_weight_change(layer, start) == 0.0
    with torch.no_grad():
        layer.weight[0, 1] = 1.0  # ‖θ − θ₀‖ = 1, ‖θ₀‖ = 5
    assert relative_weight_change(layer, start) == pytest.approx(0.2)
