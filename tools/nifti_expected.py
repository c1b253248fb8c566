#!/usr/bin/python3
"""Write Tests/TestData/nifti_expected.json: what nibabel reads from every NIfTI file the tests check.

The C# reader is tested against these values. Run from anywhere with Debian's python3 (nibabel, numpy):
    /usr/bin/python3 tools/nifti_expected.py
Shared data is taken from $ILGPUSEG_SHARED_DATA, else ../shared/data next to the repository.
Keys: "shared" holds paths relative to the shared data directory, "testdata" names in Tests/TestData.
"""
import gzip
import hashlib
import json
import math
import os
import sys

import nibabel as nib
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("ILGPUSEG_SHARED_DATA") or os.path.join(REPO, "..", "shared", "data")
TESTDATA = os.path.join(REPO, "Tests", "TestData")


def number_or_none(x):
    """JSON has no NaN: a NaN header value (e.g. scl_slope meaning 'no scaling') is written as null."""
    x = float(x)
    return None if math.isnan(x) else x


def matrix(m):
    return [[float(v) for v in row] for row in m]


def expected(path):
    img = nib.load(path)
    hdr = img.header
    # img.header is normalised by nibabel (vox_offset 0, scaling moved to the array proxy): read the stored one too.
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        stored = f.read()
    raw_header = nib.Nifti1Header(stored[:348], check=False)
    offset = int(raw_header["vox_offset"])
    dtype = hdr.get_data_dtype()
    nbytes = int(np.prod(img.shape)) * dtype.itemsize
    raw = stored[offset:offset + nbytes]
    data = img.get_fdata(dtype=np.float64)
    axcodes = nib.aff2axcodes(img.affine)
    return {
        "shape": [int(s) for s in img.shape],
        "dtype": dtype.name,
        "big_endian": dtype.byteorder == ">",
        "zooms": [float(z) for z in hdr.get_zooms()],
        "affine": matrix(img.affine),
        # Each candidate affine too, so the C# sform, qform and pixdim paths are all checked against nibabel.
        "qform_affine": matrix(hdr.get_qform()),
        "sform_affine": matrix(hdr.get_sform()),
        "base_affine": matrix(hdr.get_base_affine()),
        "axcodes": "".join(c if c else "?" for c in axcodes),
        "sform_code": int(hdr["sform_code"]),
        "qform_code": int(hdr["qform_code"]),
        "scl_slope": number_or_none(raw_header["scl_slope"]),
        "scl_inter": number_or_none(raw_header["scl_inter"]),
        "vox_offset": offset,
        "sum": float(np.sum(data)),
        "sum_sq": float(np.sum(data * data)),
        "min": float(np.min(data)),
        "max": float(np.max(data)),
        "raw_sha256": hashlib.sha256(raw).hexdigest(),
    }


def scan(directory, relative_to):
    out = {}
    for root, _, files in sorted(os.walk(directory)):
        for name in sorted(files):
            if name.endswith(".nii.gz"):
                path = os.path.join(root, name)
                out[os.path.relpath(path, relative_to)] = expected(path)
    return out


def axcodes_cases(count=40, seed=5):
    """Oblique, sheared, flipped and scaled affines with nibabel's axis codes, to test the polar-decomposition path."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # a random rotation or reflection
        shear = np.eye(3) + (rng.normal(scale=0.3, size=(3, 3)) if i % 2 else 0)
        zooms = np.diag(rng.uniform(0.5, 5, size=3))
        affine = np.eye(4)
        affine[:3, :3] = q @ shear @ zooms
        affine[:3, 3] = rng.normal(scale=100, size=3)
        cases.append({
            "affine": matrix(affine),
            "axcodes": "".join(c if c else "?" for c in nib.aff2axcodes(affine)),
        })
    return cases


def main():
    if not os.path.isdir(SHARED):
        sys.exit(f"shared data not found at {SHARED}")
    result = {
        "generator": f"tools/nifti_expected.py with nibabel {nib.__version__}, numpy {np.__version__}",
        "shared": scan(SHARED, SHARED),
        "testdata": scan(TESTDATA, TESTDATA),
        "axcodes_cases": axcodes_cases(),
    }
    out_path = os.path.join(TESTDATA, "nifti_expected.json")
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"wrote {out_path}: {len(result['shared'])} shared files, {len(result['testdata'])} test data files")


if __name__ == "__main__":
    main()
