import lrkit


def test_import() -> None:
    assert lrkit.cosine(0.1, 10)(10) == 0.0
