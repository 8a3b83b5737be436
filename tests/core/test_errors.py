"""One line from any exception, for the messages a sweep, Ray and MLflow pass on."""

from model_collapse.core.errors import first_line


def test_an_exception_gives_its_first_line_or_its_type():
    assert first_line(ValueError("bad value\nmore detail")) == "bad value"
    assert first_line(RuntimeError("")) == "RuntimeError"  # not an IndexError
    assert first_line(OSError("  \n")) == "OSError"
