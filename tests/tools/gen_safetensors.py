#!/usr/bin/python3
# Generates tests/data/small.safetensors and tests/data/small_safetensors.json (run once, with
# Debian's python3-torch: /usr/bin/python3 tests/tools/gen_safetensors.py).
#
# No safetensors python package is installed, so the file is written by hand the way PyTorch's
# safetensors writer lays it out: 8-byte little-endian header length, compact JSON header with a
# "__metadata__" map, padded with spaces to a multiple of 8, then the raw little-endian bytes.
# The header's keys are sorted by name while the data is stored in a different order, so the test
# can check that the reader returns tensors in data order. The JSON companion holds the same values
# through an independent path (tolist), which the test compares with what it read.
import json
import os
import struct

import torch

torch.manual_seed(0)

# (name, tensor) in data order; not alphabetical on purpose.
tensors = [
    ("weight", torch.randn(2, 3)),
    ("counts", torch.tensor([0, -1, 2**40, -(2**62)], dtype=torch.int64)),
    ("pixels", torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8)),
    ("index", torch.tensor([[7, -8], [2**31 - 1, -(2**31)]], dtype=torch.int32)),
    ("scalar", torch.tensor(-2.5)),
    ("empty", torch.zeros(0, 3)),
    # A transposed view: what is stored is its contiguous (row-major) copy.
    ("bias_t", torch.arange(6, dtype=torch.float32).reshape(2, 3).t()),
]
dtype_names = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
metadata = {"format": "pt", "note": "qnn test file"}

header = {"__metadata__": metadata}
blobs = []
offset = 0
for name, t in tensors:
    data = t.contiguous().numpy().tobytes()  # numpy writes native order; this host is little-endian
    header[name] = {"dtype": dtype_names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
assert struct.pack("=I", 1) == struct.pack("<I", 1)

text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
text += b" " * (-len(text) % 8)
here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "data")
with open(os.path.join(out_dir, "small.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for b in blobs:
        f.write(b)

expected = {
    "order": [name for name, _ in tensors],
    "metadata": metadata,
    "tensors": {name: {"dtype": dtype_names[t.dtype], "shape": list(t.shape),
                       "values": t.contiguous().reshape(-1).tolist()} for name, t in tensors},
}
with open(os.path.join(out_dir, "small_safetensors.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
