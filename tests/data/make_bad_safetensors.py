#!/usr/bin/env python3
"""Writes the corpus of malformed safetensors files in bad-safetensors/ and expected.tsv, which
maps each file to the text its error message must contain. Standard library only; the files are
committed, so tests never run this."""
import json, os, struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad-safetensors")
os.makedirs(here, exist_ok=True)
cases = []

def raw(name, data, expect):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
    cases.append((name, expect))

def st(name, header, data_len, expect, header_len=None, text=None):
    h = text if text is not None else json.dumps(header, separators=(",", ":")).encode()
    n = len(h) if header_len is None else header_len
    raw(name, struct.pack("<Q", n) + h + b"\0" * data_len, expect)

def t(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}

raw("empty.safetensors", b"", "shorter than the 8-byte safetensors header length")
raw("short.safetensors", b"\x05\x00\x00", "shorter than the 8-byte safetensors header length")
st("header-past-end.safetensors", {}, 0, "runs past the end", header_len=4096)
st("header-too-big.safetensors", {}, 0, "exceeds the 100 MB limit", header_len=200_000_000)
st("not-json.safetensors", None, 0, "not valid UTF-8 JSON", text=b"{this is not json}")
st("bad-utf8.safetensors", None, 0, "not valid UTF-8 JSON", text=b'{"a\xff\xfe":{}}')
st("array-header.safetensors", None, 0, "header must be a JSON object", text=b"[1, 2, 3]")
st("entry-not-object.safetensors", {"w": 3}, 0, "tensor 'w': entry must be an object")
st("missing-dtype.safetensors", {"w": {"shape": [1], "data_offsets": [0, 4]}}, 4, "tensor 'w': field 'dtype' missing")
st("missing-shape.safetensors", {"w": {"dtype": "F32", "data_offsets": [0, 4]}}, 4, "tensor 'w': field 'shape' missing")
st("missing-offsets.safetensors", {"w": {"dtype": "F32", "shape": [1]}}, 4, "tensor 'w': field 'data_offsets' must be an array")
st("unknown-dtype.safetensors", {"w": t("F8_E4M3X", [1], 0, 1)}, 1, "tensor 'w': unknown dtype 'F8_E4M3X'")
st("negative-dim.safetensors", {"w": t("F32", [-2], 0, 8)}, 8, "tensor 'w': shape entries must be non-negative integers")
st("float-dim.safetensors", {"w": t("F32", [2.5], 0, 8)}, 8, "tensor 'w': shape entries must be non-negative integers")
st("shape-overflow.safetensors", {"w": t("F32", [2**40, 2**40], 0, 4)}, 4, "tensor 'w': shape product overflows 64 bits")
st("bytes-overflow.safetensors", {"w": t("F64", [2**62], 0, 8)}, 8, "tensor 'w': shape x dtype size overflows 64 bits")
st("size-mismatch.safetensors", {"w": t("F32", [3], 0, 8)}, 8, "tensor 'w': shape x dtype size is 12 bytes but data_offsets span 8")
st("offsets-past-data.safetensors", {"w": t("F32", [4], 0, 16)}, 8, "tensor 'w': data_offsets [0, 16) exceed the data section of 8 bytes")
st("offsets-reversed.safetensors", {"w": t("F32", [0], 8, 4)}, 8, "tensor 'w': data_offsets end 4 < begin 8")
st("overlap.safetensors", {"a": t("F32", [2], 0, 8), "b": t("F32", [2], 4, 12)}, 12, "overlaps the previous tensor")
st("gap.safetensors", {"a": t("F32", [1], 0, 4), "b": t("F32", [1], 8, 12)}, 12, "gap in the data section before tensor 'b'")
st("trailing.safetensors", {"a": t("F32", [1], 0, 4)}, 12, "data section has 8 trailing bytes not covered by any tensor")
st("metadata-not-object.safetensors", {"__metadata__": [1]}, 0, "__metadata__ must be an object of strings")
st("metadata-not-string.safetensors", {"__metadata__": {"config": 7}}, 0, "__metadata__ key 'config' must have a string value")
# The same name twice: a JSON object keeps the last, the format forbids it.
st("duplicate-name.safetensors", None, 8, "header names tensor 'w' twice",
   text=b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
# A BOOL tensor whose second byte is 2: found when the values are read, not at parse.
h = json.dumps({"b": t("BOOL", [2], 0, 2)}, separators=(",", ":")).encode()
raw("bool-byte-2.safetensors", struct.pack("<Q", len(h)) + h + b"\x01\x02", "BOOL element 1 has byte value 2")

with open(os.path.join(here, "expected.tsv"), "w") as f:
    for name, expect in cases:
        f.write(f"{name}\t{expect}\n")
print(f"wrote {len(cases)} files to {here}")
