"""Drives `axr serve` with Triton's own HTTP client (tritonclient[http]).

Usage: client.py URL MODEL OTHER_MODEL [TOKEN]. Prints one JSON object with what it saw;
the TypeScript test (tests/serve.test.ts) checks it against in-process infer().
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

url, model, other = sys.argv[1], sys.argv[2], sys.argv[3]
headers = {"Authorization": "Bearer " + sys.argv[4]} if len(sys.argv) > 4 else None
c = httpclient.InferenceServerClient(url.removeprefix("http://"))
out = {}
out["live"] = c.is_server_live(headers=headers)
out["ready"] = c.is_server_ready(headers=headers)
out["model_ready"] = c.is_model_ready(model, headers=headers)
meta = c.get_model_metadata(model, headers=headers)
out["metadata"] = meta
x = (np.arange(192, dtype=np.float64) / 32 - 3).astype(np.float32).reshape(meta["inputs"][0]["shape"])


def infer(binary_in, binary_out, outputs=True):
    i = httpclient.InferInput(meta["inputs"][0]["name"], list(x.shape), "FP32")
    i.set_data_from_numpy(x, binary_data=binary_in)
    outs = [httpclient.InferRequestedOutput(o["name"], binary_data=binary_out) for o in meta["outputs"]] if outputs else None
    r = c.infer(model, [i], outputs=outs, headers=headers, request_id="req-1")
    resp = r.get_response()
    return {
        "id": resp.get("id"),
        "outputs": {o["name"]: r.as_numpy(o["name"]).astype(np.float64).ravel().tolist() for o in meta["outputs"]},
        "shapes": {o["name"]: list(r.as_numpy(o["name"]).shape) for o in meta["outputs"]},
        "binary": {o["name"]: "binary_data_size" in (o.get("parameters") or {}) for o in resp["outputs"]},
    }


out["json"] = infer(False, False)
out["binary"] = infer(True, True)
out["default_outputs"] = infer(True, False, outputs=False)
# model repository extension
out["index_before"] = c.get_model_repository_index(headers=headers)
c.unload_model(other, headers=headers)
out["other_ready_after_unload"] = c.is_model_ready(other, headers=headers)
try:
    c.get_model_metadata(other, headers=headers)
    out["unloaded_metadata_error"] = None
except InferenceServerException as e:
    out["unloaded_metadata_error"] = str(e)
c.load_model(other, headers=headers)
out["other_ready_after_load"] = c.is_model_ready(other, headers=headers)
try:
    c.load_model("../tiny", headers=headers)
    out["escape_error"] = None
except InferenceServerException as e:
    out["escape_error"] = str(e)
print(json.dumps(out))
