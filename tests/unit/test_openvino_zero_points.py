"""chat/llm/openvino_cache.py: a saved model's zero points that are all one value
become a scalar, the model computes the same, and varied zero points stay."""

from __future__ import annotations

import numpy as np
import pytest

from chat.llm import openvino_cache

ov = pytest.importorskip("openvino")
from openvino import opset13 as op  # noqa: E402


def _decompressed(weights: np.ndarray, points: np.ndarray, scales: np.ndarray):
    """The shape OpenVINO gives a grouped u8 weight: (w - zero point) * scale."""
    w = op.convert(op.constant(weights, ov.Type.u8), ov.Type.f32)
    z = op.convert(op.constant(points, ov.Type.u8), ov.Type.f32)
    grouped = op.multiply(op.subtract(w, z), op.constant(scales, ov.Type.f32))
    return op.reshape(grouped, op.constant(np.array([4, 8], np.int64)), False)


def _save(directory, uniform_points: np.ndarray, varied_points: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    x = op.parameter([1, 8], ov.Type.f32, name="x")
    out = x
    for points in (uniform_points, varied_points):
        weights = rng.integers(0, 255, (4, 2, 4), dtype=np.uint8)
        scales = rng.random((4, 2, 1), dtype=np.float32)
        layer = op.matmul(out, _decompressed(weights, points, scales), False, True)
        out = op.concat([layer, layer], axis=1)  # back to 8 wide for the next layer
    ov.save_model(ov.Model([out], [x]), directory / "openvino_model.xml")


def _run(directory, x: np.ndarray) -> np.ndarray:
    core = ov.Core()
    model = core.compile_model(core.read_model(directory / "openvino_model.xml"), "CPU")
    return model({"x": x})[0]


def test_uniform_zero_points_become_one_scalar_and_the_output_is_the_same(tmp_path):
    uniform = np.full((4, 2, 1), 128, np.uint8)
    varied = np.arange(8, dtype=np.uint8).reshape(4, 2, 1)
    _save(tmp_path, uniform, varied)
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(1, 8)
    before = _run(tmp_path, x)

    assert openvino_cache._scalar_zero_points(tmp_path) == 1
    assert openvino_cache._scalar_zero_points(tmp_path) == 0  # nothing left to rewrite
    assert not list(tmp_path.glob("rewritten.*"))
    np.testing.assert_allclose(_run(tmp_path, x), before, rtol=1e-6)

    model = ov.Core().read_model(tmp_path / "openvino_model.xml")
    points = [
        n.input_value(1).get_node().input_value(0).get_node().get_data()
        for n in model.get_ordered_ops()
        if n.get_type_name() == "Subtract"
    ]
    assert sorted(p.size for p in points) == [1, 8]  # the varied ones are kept whole
