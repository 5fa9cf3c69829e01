"""Model zoo preparation (tests/zoo/README in docs/zoo.md): the three forms of one model and
onnxruntime's reference results, written into a cache directory.

    python3 prepare.py SPEC.json

SPEC.json (written by tests/zoo/main.ts):
  { "onnx": model path, "input": name, "shape": [..], "calib": [f32 files], "eval": [f32 files],
    "accuracy": [f32 files], "out": directory }

Writes into "out":
  float.onnx     the model with its input shape fixed (nothing else changed)
  qdq.onnx       onnxruntime quantize_static, QDQ, per-channel int8 weights, asymmetric int8
                 activations, MinMax over the calibration files, every op type onnxruntime
                 quantizes (its default)
  nopost.onnx    the same with the postamble excluded (nodes_to_exclude): the trailing nodes
                 that carry no weights (see trailing_weightless)
  ref/<form>/    per form, onnxruntime 1 thread, ORT_DISABLE_ALL, on every eval file:
                 out_<k>_<i>.bin outputs (float32), and for eval file 0 of the QDQ forms every
                 QuantizeLinear output (q_<n>.bin, int8/uint8) described in index.json; for
                 the QDQ forms also the outputs with ORT_ENABLE_ALL (all_<k>_<i>.bin:
                 onnxruntime's integer kernels, where its two levels may disagree); and on
                 every accuracy file, ORT_DISABLE_ALL, acc_<k>_<i>.bin (the float form's
                 accuracy check: ours and quantize_static's, each against the float model)
  done.json      written last: the cache key
"""

import json
import logging
import os
import sys

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

ort.set_default_logger_severity(3)
logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing": we quantize the model as given

WEIGHTED = {"Conv", "ConvTranspose", "MatMul", "Gemm"}


def fixed_float(src, input_name, shape, dst):
    m = onnx.load(src)
    for i in m.graph.input:
        if i.name == input_name:
            dims = i.type.tensor_type.shape.dim
            for d, v in zip(dims, shape):
                d.Clear()
                d.dim_value = v
    for o in m.graph.output:  # output shapes follow from the input; let onnxruntime infer them
        o.type.tensor_type.ClearField("shape")
    # intermediate value_info with symbolic batch dims would contradict the fixed input
    del m.graph.value_info[:]
    # weights held by Constant nodes (paddle2onnx) become initializers, as in any exported
    # model: quantize_static treats a Constant's output as an activation (per-tensor,
    # asymmetric, quantized in the graph), not as weights (per-channel int8)
    keep = []
    for n in m.graph.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
            m.graph.initializer.append(t)
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    # per-channel QDQ (DequantizeLinear with axis) needs opset 13: convert older models
    # first, as onnxruntime's quantization guide does
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        m = onnx.version_converter.convert_version(m, 13)
    onnx.save(m, dst)


def trailing_weightless(path):
    """The postamble: nodes with no weight (not Conv/ConvTranspose/MatMul/Gemm, nor the bias
    Add right after one) all of whose consumers are postamble nodes or graph outputs."""
    g = onnx.load(path).graph
    inits = {i.name for i in g.initializer} | {
        n.output[0] for n in g.node if n.op_type == "Constant"
    }
    producer = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def weighted(n):
        if n.op_type in WEIGHTED:
            return True
        if n.op_type == "Add" and any(i in inits for i in n.input):
            acts = [producer.get(i) for i in n.input if i not in inits]
            return any(p is not None and p.op_type in ("MatMul", "Gemm") for p in acts)
        return False

    post = set()
    changed = True
    while changed:
        changed = False
        for n in g.node:
            if n.name in post or n.op_type == "Constant" or weighted(n):
                continue
            ok = True
            for o in n.output:
                for c in consumers.get(o, []):
                    if c.name not in post:
                        ok = False
            if ok:
                post.add(n.name)
                changed = True
    return sorted(post)


class Reader(CalibrationDataReader):
    def __init__(self, name, shape, files):
        self.items = [{name: np.fromfile(f, dtype=np.float32).reshape(shape)} for f in files]
        self.k = 0

    def get_next(self):
        if self.k >= len(self.items):
            return None
        self.k += 1
        return self.items[self.k - 1]


def session(path_or_bytes, level=ort.GraphOptimizationLevel.ORT_DISABLE_ALL):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = level
    return ort.InferenceSession(path_or_bytes, so, providers=["CPUExecutionProvider"])


def const_value(g, name):
    for i in g.initializer:
        if i.name == name:
            return onnx.numpy_helper.to_array(i)
    for n in g.node:
        if n.op_type == "Constant" and n.output[0] == name:
            return onnx.numpy_helper.to_array(n.attribute[0].t)
    return None


def reference(form_path, spec, ref_dir, with_q):
    os.makedirs(ref_dir, exist_ok=True)
    if with_q:
        s = session(form_path, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        for k, f in enumerate(spec["eval"]):
            x = np.fromfile(f, dtype=np.float32).reshape(spec["shape"])
            for i, y in enumerate(s.run(None, {spec["input"]: x})):
                np.ascontiguousarray(y, dtype=np.float32).tofile(os.path.join(ref_dir, f"all_{k}_{i}.bin"))
    m = onnx.load(form_path)
    g = m.graph
    index = {"outputs": [o.name for o in g.output], "q": []}
    extra = []
    if with_q:
        consumers = {}
        for n in g.node:
            for i in n.input:
                consumers.setdefault(i, []).append(n)
        for k, n in enumerate(g.node):
            if n.op_type != "QuantizeLinear":
                continue
            scale = const_value(g, n.input[1])
            zp = const_value(g, n.input[2]) if len(n.input) > 2 and n.input[2] else np.zeros((), np.uint8)
            if scale is None or scale.size != 1:
                continue  # weights are quantized offline; activations have one scale
            dq = [c.output[0] for c in consumers.get(n.output[0], []) if c.op_type == "DequantizeLinear"]
            index["q"].append({
                "file": f"q_{len(index['q'])}.bin",
                "input": n.input[0],
                "q": n.output[0],
                "dq": dq,
                "scale": float(scale.reshape(())),
                "zero_point": int(zp.reshape(())),
                "dtype": str(zp.dtype),
            })
            extra.append(n.output[0])
        have = {o.name for o in g.output}
        for name in extra:
            if name not in have:
                g.output.append(onnx.helper.make_empty_tensor_value_info(name))
    if with_q:
        # per graph output: the scale of the nearest QuantizeLinear upstream (one quantization
        # step of what the output is computed from), the smallest over the paths
        producer = {o: n for n in g.node for o in n.output}
        steps = {}
        for out in index["outputs"]:
            found, seen, todo = [], set(), [out]
            while todo:
                t = todo.pop()
                if t in seen or t not in producer:
                    continue
                seen.add(t)
                n = producer[t]
                if n.op_type == "DequantizeLinear":
                    sc = const_value(g, n.input[1])
                    if sc is not None and sc.size == 1:
                        found.append(float(sc.reshape(())))
                        continue
                todo.extend(i for i in n.input if i and const_value(g, i) is None)
            steps[out] = min(found) if found else None
        index["steps"] = steps
    s = session(m.SerializeToString())
    for k, f in enumerate(spec["eval"]):
        x = np.fromfile(f, dtype=np.float32).reshape(spec["shape"])
        names = index["outputs"] + (extra if with_q and k == 0 else [])
        res = s.run(names, {spec["input"]: x})
        for i, name in enumerate(index["outputs"]):
            y = np.ascontiguousarray(res[i], dtype=np.float32)
            y.tofile(os.path.join(ref_dir, f"out_{k}_{i}.bin"))
            index.setdefault("shapes", {})[name] = list(y.shape)
        if with_q and k == 0:
            for e, r in zip(index["q"], res[len(index["outputs"]):]):
                np.ascontiguousarray(r).tofile(os.path.join(ref_dir, e["file"]))
                e["shape"] = list(r.shape)
    for k, f in enumerate(spec.get("accuracy", [])):
        x = np.fromfile(f, dtype=np.float32).reshape(spec["shape"])
        for i, y in enumerate(s.run(index["outputs"], {spec["input"]: x})):
            np.ascontiguousarray(y, dtype=np.float32).tofile(os.path.join(ref_dir, f"acc_{k}_{i}.bin"))
    with open(os.path.join(ref_dir, "index.json"), "w") as fh:
        json.dump(index, fh)


def main():
    spec = json.load(open(sys.argv[1]))
    out = spec["out"]
    os.makedirs(out, exist_ok=True)
    fl = os.path.join(out, "float.onnx")
    fixed_float(spec["onnx"], spec["input"], spec["shape"], fl)
    post = trailing_weightless(fl)
    common = dict(
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
    )
    quantize_static(fl, os.path.join(out, "qdq.onnx"), Reader(spec["input"], spec["shape"], spec["calib"]), **common)
    quantize_static(
        fl,
        os.path.join(out, "nopost.onnx"),
        Reader(spec["input"], spec["shape"], spec["calib"]),
        nodes_to_exclude=post,
        **common,
    )
    for form in ("float", "qdq", "nopost"):
        reference(os.path.join(out, f"{form}.onnx"), spec, os.path.join(out, "ref", form), form != "float")
    with open(os.path.join(out, "done.json"), "w") as fh:
        json.dump({"key": spec.get("key"), "postamble": post, "onnxruntime": ort.__version__}, fh)


if __name__ == "__main__":
    main()
