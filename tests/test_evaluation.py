import torch

from sslbench.evaluation.knn import KNNSpec, knn_accuracy, knn_predictions
from sslbench.evaluation.linear_probe import LinearProbeSpec, linear_probe


def _clusters(n_per_class: int, n_classes: int, dim: int, noise: float, seed: int):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, dim, generator=g) * 3
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    return centres[labels] + noise * torch.randn(len(labels), dim, generator=g), labels


def test_linear_probe_separates_clusters_and_reports_per_sample_correctness():
    x_train, y_train = _clusters(50, 4, 16, 0.5, 0)
    x_test, y_test = _clusters(20, 4, 16, 0.5, 0)
    result = linear_probe(x_train, y_train, x_test, y_test, LinearProbeSpec(epochs=30))
    assert result.accuracy > 0.95
    assert result.correct.shape == y_test.shape
    assert result.accuracy == result.correct.float().mean().item()
    assert torch.equal(result.correct, result.predictions == y_test)
    assert ((result.confidence > 0) & (result.confidence <= 1)).all()


def test_linear_probe_is_at_chance_on_random_labels():
    x, _ = _clusters(100, 4, 16, 0.5, 1)
    g = torch.Generator().manual_seed(2)
    y = torch.randint(0, 4, (len(x),), generator=g)
    result = linear_probe(x[:300], y[:300], x[300:], y[300:], LinearProbeSpec(epochs=20))
    assert result.accuracy < 0.5


def test_knn_finds_neighbours():
    x_train, y_train = _clusters(30, 3, 8, 0.3, 0)
    x_test, y_test = _clusters(10, 3, 8, 0.3, 0)
    assert knn_accuracy(x_train, y_train, x_test, y_test, KNNSpec(k=5)) == 1.0
    shuffled = y_train[torch.randperm(len(y_train), generator=torch.Generator().manual_seed(0))]
    assert knn_accuracy(x_train, shuffled, x_test, y_test, KNNSpec(k=5)) < 0.7


def test_knn_predictions_follow_the_weighted_vote():
    x_train = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    y_train = torch.tensor([0, 0, 1])
    x_test = torch.tensor([[1.0, 0.05], [0.05, 1.0]])
    # k = 3: both near neighbours of class 0 outvote the far one; a near class-1 sample wins
    # at a small temperature although two class-0 samples also vote.
    predictions = knn_predictions(x_train, y_train, x_test, KNNSpec(k=3, temperature=0.05))
    assert predictions.tolist() == [0, 1]
    chunked = knn_predictions(x_train, y_train, x_test, KNNSpec(k=3, chunk_size=1))
    assert torch.equal(chunked, knn_predictions(x_train, y_train, x_test, KNNSpec(k=3)))


def test_knn_says_when_k_exceeds_the_train_samples(caplog):
    """Issue 22 fault 5: k larger than the train set was capped without a word."""
    x_train, y_train = torch.eye(4), torch.tensor([0, 0, 1, 1])
    with caplog.at_level("WARNING", logger="sslbench.evaluation.knn"):
        knn_predictions(x_train, y_train, x_train, KNNSpec(k=100000))
    assert "evaluation.knn.k: 100000 exceeds the 4 train samples" in caplog.text
