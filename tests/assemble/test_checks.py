"""The memory check asks the source for its shape and the metrics for what they need."""

from model_collapse.assemble.checks import declared_shape, metric_needs
from model_collapse.config.sizes import Shape
from tests.conftest import TEXT_SOURCE, make_config


def test_each_source_declares_its_shape_from_the_config():
    gaussian = make_config(source={"dim": 3, "n_test": 500})
    assert declared_shape(gaussian, "continuous") == Shape(3, 0, 500)
    zipf = make_config(source={"name": "zipf", "categories": 40}, family={"name": "categorical"})
    assert declared_shape(zipf, "categorical") == Shape(1, 40, zipf.source.n_test)
    text = make_config(source={**TEXT_SOURCE, "block_size": 16}, family={"name": "ngram"})
    assert declared_shape(text, "text") == Shape(16, 0, text.source.n_test or 0)
    # a file's columns are known once it is read: the bound of two numbers
    rows = make_config(source={"name": "file", "path": "data.csv"})
    assert declared_shape(rows, "continuous") == Shape.unknown("continuous") == Shape(2)


def test_a_metric_declares_the_memory_it_needs():
    config = make_config(sampling={"n": 100}, metrics={"projections": 10})
    (sliced,) = metric_needs(config, Shape(2, 0, 1000))
    assert sliced.what == "the sliced Wasserstein distance"
    assert sliced.bytes == 64 * 10 * (100 + 1000) * 8 * 3
    assert metric_needs(config, Shape(1, 0, 1000)) == []  # exact in 1-D: no projections
    named = make_config(metrics={"names": ["mean_error"]})
    assert metric_needs(named, Shape(2, 0, 1000)) == []
