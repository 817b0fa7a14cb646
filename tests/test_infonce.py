import pytest
import torch
import torch.nn.functional as F
from lightly.loss import NTXentLoss

from sslbench.losses.infonce import NTXent, block_temperature, info_nce, info_nce_queue


def _pairs(n=6, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)


def _explicit(z0, z1, tau_vec, normalise=True):
    """InfoNCE written out with s(a, b) = Σ_j a_j b_j / τ_j (002 §3)."""
    z = torch.cat([z0, z1])
    if normalise:
        z = F.normalize(z, dim=1)
    n = z0.shape[0]
    total = 0.0
    for i in range(2 * n):
        sims = torch.stack([(z[i] * z[k] / tau_vec).sum() for k in range(2 * n) if k != i])
        pos = (z[i] * z[(i + n) % (2 * n)] / tau_vec).sum()
        total = total - (pos - torch.logsumexp(sims, 0))
    return total / (2 * n)


def test_simclr_criterion_equals_lightly_ntxent():
    z0, z1 = torch.randn(16, 8), torch.randn(16, 8)
    torch.testing.assert_close(NTXent(0.2)(z0, z1), NTXentLoss(0.2)(z0, z1))
    assert not list(NTXent(0.2).state_dict())  # no buffers: saved SimCLR models keep their keys


def test_moco_queue_criterion_equals_lightly_ntxent_with_a_memory_bank():
    """MoCo's criterion (the one InfoNCE with a queue) gives lightly's NT-Xent with a memory
    bank of the same keys, for two steps, and enqueues the same normalised keys."""
    from sslbench.losses.infonce import InfoNCECriterion

    ours = InfoNCECriterion(0.2, queue_size=16, dim=5)
    lightly = NTXentLoss(0.2, memory_bank_size=(16, 5))
    lightly.memory_bank.bank = ours.queue.clone()  # the same initial random negatives
    for step in range(2):
        query, key = _pairs(n=4, seed=step)
        query.requires_grad_(True)  # training: both enqueue the keys
        torch.testing.assert_close(ours(query, key), lightly(query, key))
        torch.testing.assert_close(ours.queue, lightly.memory_bank.bank)


def test_the_queue_takes_keys_computed_under_bf16_autocast():
    """Under autocast the keys arrive in bf16; the fp32 queue stores them (CI caught the
    mismatch through the throughput benchmark's MoCo step)."""
    from sslbench.losses.infonce import InfoNCECriterion

    criterion = InfoNCECriterion(0.2, queue_size=8, dim=5)
    query, key = _pairs(n=4)
    query.requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = criterion(query @ torch.eye(5), key @ torch.eye(5))
    assert torch.isfinite(loss) and criterion.queue.dtype == torch.float32
    assert int(criterion.queue_ptr) == 4


def test_scalar_temperature_equals_lightly_ntxent():
    z0, z1 = _pairs()
    torch.testing.assert_close(info_nce(z0, z1, 0.3), NTXentLoss(0.3)(z0, z1))


def test_equal_block_temperatures_equal_plain_infonce():
    z0, z1 = _pairs()
    torch.testing.assert_close(
        info_nce(z0, z1, block_temperature(5, 2, 0.4, 0.4)), info_nce(z0, z1, 0.4)
    )


def test_per_dimension_temperature_matches_the_written_out_formula():
    z0, z1 = _pairs()
    tau = block_temperature(5, 2, 0.2, 1.0)
    torch.testing.assert_close(info_nce(z0, z1, tau), _explicit(z0, z1, tau))
    assert not torch.allclose(info_nce(z0, z1, tau), info_nce(z0, z1, 1.0))


def test_without_normalisation_uses_raw_dot_products():
    z0, z1 = _pairs()
    tau = torch.full((5,), 0.5)
    torch.testing.assert_close(
        info_nce(z0, z1, 0.5, normalise=False), _explicit(z0, z1, tau, False)
    )


def test_ifm_equals_infonce_on_explicitly_perturbed_similarities():
    """004 eq. (2): positive logit − ε/τ, negatives + ε/τ; never below the plain loss."""
    z0, z1 = _pairs()
    tau, eps = 0.5, 0.1
    plain = info_nce(z0, z1, tau)
    ifm = info_nce(z0, z1, tau, epsilon=eps)
    z = F.normalize(torch.cat([z0, z1]), dim=1)
    n = z0.shape[0]
    total = 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        pos = (z[i] @ z[j] - eps) / tau
        negs = [(z[i] @ z[k] + eps) / tau for k in range(2 * n) if k not in (i, j)]
        total = total - (pos - torch.logsumexp(torch.stack([pos, *negs]), 0))
    torch.testing.assert_close(ifm, total / (2 * n))
    assert ifm >= plain


def test_queue_variant_matches_moco_formula():
    q, k = _pairs(4, 5, 1)
    queue = torch.randn(7, 5, generator=torch.Generator().manual_seed(2))
    qn, kn, un = (F.normalize(x, dim=1) for x in (q, k, queue))
    logits = torch.cat([(qn * kn).sum(1, keepdim=True), qn @ un.T], dim=1) / 0.2
    expected = F.cross_entropy(logits, torch.zeros(4, dtype=torch.long))
    torch.testing.assert_close(info_nce_queue(q, k, queue, 0.2), expected)


def test_ifm_needs_a_scalar_temperature():
    z0, z1 = _pairs()
    with pytest.raises(ValueError, match="scalar temperature"):
        info_nce(z0, z1, block_temperature(5, 2, 0.2, 1.0), epsilon=0.1)


def test_wrong_temperature_length_is_named():
    z0, z1 = _pairs()
    with pytest.raises(ValueError, match="per-dimension temperature has 3 entries"):
        info_nce(z0, z1, torch.ones(3))
