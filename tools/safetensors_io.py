#!/usr/bin/python3
"""Minimal safetensors writer and reader (the `safetensors` package is not installed here).

Layout: 8-byte little-endian u64 header length N, then N bytes of UTF-8 JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian tensor data; offsets are relative to the start of the data.
Only F32 and F64 are supported because that is all the fixtures need.
"""
import json
import struct

import numpy as np

# numpy dtype (explicitly little-endian) <-> safetensors dtype name
_TO_NAME = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64"}
_FROM_NAME = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


def write(path, tensors, metadata=None):
    """tensors: {name: numpy array (float32/float64)}; metadata: {str: str}.

    Names are sorted and the JSON is written compactly with sorted keys, so the same
    inputs always give the same bytes (fixtures can be regenerated and diffed)."""
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata must map str to str, got {k!r}: {v!r}")
        header["__metadata__"] = dict(sorted(metadata.items()))
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        le = arr.dtype.newbyteorder("<")
        if le not in _TO_NAME:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype} (only float32/float64)")
        # C order + explicit little-endian so the bytes match the declared layout on any host
        data = np.ascontiguousarray(arr, dtype=le).tobytes(order="C")
        header[name] = {"dtype": _TO_NAME[le], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    # pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for b in blobs:
            f.write(b)


def read(path):
    """Returns (tensors: {name: numpy array}, metadata: {str: str}); checks offsets strictly
    (contiguous, in order, covering the whole data section) so a bad writer is caught."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} exceeds file size {len(raw)}")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    spans = []
    for name, entry in header.items():
        dt = _FROM_NAME[entry["dtype"]]
        shape = tuple(entry["shape"])
        begin, end = entry["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dt.itemsize or end > len(data):
            raise ValueError(f"{path}: {name} offsets {begin}..{end} do not fit {entry['dtype']} {shape}")
        tensors[name] = np.frombuffer(data[begin:end], dtype=dt).reshape(shape)
        spans.append((begin, end))
    spans.sort()
    pos = 0
    for begin, end in spans:
        if begin != pos:
            raise ValueError(f"{path}: gap or overlap in data at byte {pos}")
        pos = end
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing bytes after the last tensor")
    return tensors, metadata
