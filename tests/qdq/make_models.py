"""Builds small but realistic float ONNX graphs and their onnxruntime quantize_static QDQ
forms for tests/compiler_qdq.test.ts: MobileNetV3-style (x*HardSigmoid(x), x*Sigmoid(x),
SE block, Relu after Conv that the quantizer removes), a detector head whose box decode
is excluded from quantization (float Reshape/Concat/Split/Sigmoid), and a Keras/TF-style
graph (NHWC input, Transposes, Cast, per-channel Sub/Mul/Add, Pad, MatMul+Add), and
per-channel element-wise ops (BatchNormalization after a Conv and after an Add, PRelu with
a per-channel and a scalar slope, LeakyRelu, AveragePool). Writes NAME.float.onnx, NAME.qdq.onnx and NAME.calib.npy (float32 samples) into argv[1].
Deterministic (seeded)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

rng = np.random.default_rng(7)
out_dir = sys.argv[1]


class Builder:
    def __init__(self):
        self.nodes, self.inits, self.k = [], [], 0

    def name(self, base):
        self.k += 1
        return f"{base}_{self.k}"

    def const(self, arr, base="c"):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def op(self, op, inputs, n_out=1, **attrs):
        outs = [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.name(op), **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x, cin, cout, k=3, s=1, group=1, pads=None, bias=True):
        w = (rng.standard_normal((cout, cin // group, k, k)) * (1.5 / np.sqrt(cin // group * k * k))).astype(np.float32)
        ins = [x, self.const(w, "w")]
        if bias:
            ins.append(self.const((rng.standard_normal(cout) * 0.1).astype(np.float32), "b"))
        p = [k // 2] * 4 if pads is None else pads
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[s, s], pads=p, group=group)

    def model(self, inputs, outputs, opset=13):
        g = helper.make_graph(self.nodes, "g", inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def mbv3():
    b = Builder()
    x = b.conv("x", 3, 16, s=2)
    hs = b.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5)
    x = b.op("Mul", [x, hs])  # x * HardSigmoid(x)
    y = b.op("Relu", [b.conv(x, 16, 16, group=16)])  # depthwise + Relu (removed by the quantizer)
    se = b.op("GlobalAveragePool", [y])
    se = b.op("Relu", [b.conv(se, 16, 8, k=1, pads=[0] * 4)])
    se = b.op("HardSigmoid", [b.conv(se, 8, 16, k=1, pads=[0] * 4)], alpha=1 / 6, beta=0.5)
    y = b.op("Mul", [y, se])
    z = b.conv(y, 16, 24, k=1, pads=[0] * 4)
    z = b.op("Mul", [z, b.op("Sigmoid", [z])])  # SiLU
    z2 = b.conv(z, 24, 24)
    z = b.op("Add", [z, z2])
    z = b.op("Clip", [b.conv(z, 24, 32, s=2), b.const(np.float32(0)), b.const(np.float32(6))])
    p = b.op("Flatten", [b.op("GlobalAveragePool", [z])])
    logits = b.op("Gemm", [p, b.const(rng.standard_normal((10, 32)).astype(np.float32) * 0.3), b.const(np.zeros(10, np.float32))], transB=1)
    b.nodes[-1].output[0] = "logits"
    return b.model([f32("x", [1, 3, 32, 32])], [f32("logits", [1, 10])]), [1, 3, 32, 32], []


def det():
    b = Builder()
    x = b.op("Relu", [b.conv("images", 3, 16, s=2)])
    x = b.conv(x, 16, 16)
    x = b.op("Mul", [x, b.op("Sigmoid", [x])])
    p3 = b.conv(x, 16, 32, s=2)
    p3 = b.op("Mul", [p3, b.op("Sigmoid", [p3])])
    p4 = b.conv(p3, 32, 32, s=2)
    p4 = b.op("Mul", [p4, b.op("Sigmoid", [p4])])
    heads = []
    for p, c in ((p3, 32), (p4, 32)):
        h = b.conv(p, c, 4 + 3, k=1, pads=[0] * 4)  # 4 box + 3 classes
        heads.append(b.op("Reshape", [h, b.const(np.array([1, 7, -1], np.int64))]))
    cat = b.op("Concat", heads, axis=2)
    box, cls = b.op("Split", [cat, b.const(np.array([4, 3], np.int64))], n_out=2, axis=1)
    box = b.op("Add", [b.op("Mul", [box, b.const(np.float32(8.0))]), b.const(np.float32(16.0))])
    score = b.op("Sigmoid", [cls])
    out = b.op("Concat", [box, score], axis=1)
    b.nodes[-1].output[0] = "output0"
    exclude = [n.name for n in b.nodes[b.nodes.index(next(n for n in b.nodes if n.op_type == "Reshape")) :]]
    return b.model([f32("images", [1, 3, 32, 32])], [f32("output0", [1, 7, 80])]), [1, 3, 32, 32], exclude


def keras():
    b = Builder()
    x = b.op("Transpose", ["input_1"], perm=[0, 3, 1, 2])
    x = b.op("Cast", [x], to=TensorProto.FLOAT)
    x = b.op("Sub", [x, b.const(np.array([0.4, 0.5, 0.6], np.float32).reshape(1, 3, 1, 1))])
    x = b.op("Mul", [x, b.const(np.array([2.0, 2.1, 2.2], np.float32).reshape(1, 3, 1, 1))])
    x = b.op("Pad", [x, b.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], mode="constant")
    x = b.conv(x, 3, 16, s=2, pads=[0] * 4)
    x = b.op("Mul", [x, b.const((rng.random(16) + 0.5).astype(np.float32).reshape(1, 16, 1, 1))])
    x = b.op("Add", [x, b.const((rng.standard_normal(16) * 0.2).astype(np.float32).reshape(1, 16, 1, 1))])
    x = b.op("Cast", [b.op("Relu", [x])], to=TensorProto.FLOAT)
    x = b.op("Pad", [x, b.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], mode="constant")
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])
    y = b.conv(x, 16, 16, bias=False)
    y = b.op("Sub", [y, b.const((rng.standard_normal(16) * 0.2).astype(np.float32).reshape(1, 16, 1, 1))])
    y = b.op("Relu", [y])
    y = b.op("Transpose", [y], perm=[0, 2, 3, 1])
    y = b.op("Transpose", [y], perm=[0, 3, 1, 2])
    x = b.op("Add", [x, y])
    p = b.op("Reshape", [b.op("GlobalAveragePool", [x]), b.const(np.array([1, 16], np.int64))])
    p = b.op("Add", [b.op("MatMul", [p, b.const(rng.standard_normal((16, 5)).astype(np.float32))]), b.const(np.zeros(5, np.float32))])
    b.op("Softmax", [p], axis=-1)
    b.nodes[-1].output[0] = "probs"
    return b.model([f32("input_1", [1, 24, 24, 3])], [f32("probs", [1, 5])]), [1, 24, 24, 3], []


def chan():
    # per-channel element-wise ops as paddle2onnx/keras2onnx write them: BatchNormalization
    # after a Conv (quantize_static rounds between them) and after an Add, PRelu with a
    # per-channel slope (onnxruntime leaves its output float before the MaxPool), a scalar
    # PRelu, a LeakyRelu, an AveragePool (onnxruntime's summation order decides its exact
    # ties), a Transpose + Flatten before the classifier
    b = Builder()

    def bn(x, c):
        ins = [x] + [b.const(v.astype(np.float32), "bn") for v in (
            rng.random(c) + 0.5, rng.standard_normal(c) * 0.2, rng.standard_normal(c) * 0.3, rng.random(c) + 0.5)]
        return b.op("BatchNormalization", ins, epsilon=1e-3)

    x = bn(b.conv("x", 3, 16), 16)
    x = b.op("PRelu", [x, b.const((rng.random((16, 1, 1)) * 0.5 - 0.1).astype(np.float32), "slope")])
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    y = b.conv(x, 16, 16, group=16)
    y = bn(b.op("Add", [x, y]), 16)
    y = b.op("PRelu", [y, b.const(np.array([0.25], np.float32), "slope")])
    y = b.op("LeakyRelu", [b.conv(y, 16, 8, k=1, pads=[0] * 4)], alpha=0.1)
    y = b.op("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2])  # same grid: exact .5 ties
    p = b.op("Flatten", [b.op("Transpose", [y], perm=[0, 2, 3, 1])])
    b.op("Gemm", [p, b.const(rng.standard_normal((5, 8 * 4 * 4)).astype(np.float32) * 0.1), b.const(np.zeros(5, np.float32))], transB=1)
    b.nodes[-1].output[0] = "logits"
    return b.model([f32("x", [1, 3, 16, 16])], [f32("logits", [1, 5])]), [1, 3, 16, 16], []


def samples(shape, n):
    # image-like: smooth gradients plus noise in [0, 1]
    out = []
    for _ in range(n):
        base = rng.random(shape).astype(np.float32) * 0.3
        ramp = np.linspace(0, 0.7, shape[-1], dtype=np.float32)
        out.append(np.clip(base + ramp * rng.random(), 0, 1).astype(np.float32))
    return np.stack(out)


class Reader(CalibrationDataReader):
    def __init__(self, name, data):
        self.it = iter([{name: d} for d in data])

    def get_next(self):
        return next(self.it, None)


for name, make in (("mbv3", mbv3), ("det", det), ("keras", keras), ("chan", chan)):
    model, shape, exclude = make()
    fpath = os.path.join(out_dir, f"{name}.float.onnx")
    onnx.save(model, fpath)
    calib = samples(shape, 8)
    np.save(os.path.join(out_dir, f"{name}.calib.npy"), calib.reshape(8 * shape[0], *shape[1:]))
    for variant, act in (("qdq", QuantType.QInt8), ("qdqu8", QuantType.QUInt8)):
        quantize_static(
            fpath,
            os.path.join(out_dir, f"{name}.{variant}.onnx"),
            Reader(model.graph.input[0].name, calib),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=act,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=exclude,
        )
print("ok")
