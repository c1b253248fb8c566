#!/usr/bin/python3
"""Generates Tests/Fixtures/superpixels/: scikit-image / SciPy reference results for the superpixel
pseudo-labels (SSL-ALPNet `data/pseudolabel_gen.ipynb`, mode 'MIDDLE').

Run from the repository root:  /usr/bin/python3 tools/make_superpixel_fixtures.py
(Debian's Python; the pyenv `python3` on PATH has no scikit-image.)

For every axial slice of Tests/TestData/image_{15,39}.nii.gz it does what the notebook does:
  * felzenszwalb(slice, min_size=400, sigma=1) with scale left at 1,
  * the body mask: slice > fg_thresh (1e-4 + 50 for CHAOS), largest connected component by
    skimage.measure.label (8-connectivity in 2D), scipy binary_fill_holes; the raw mask if nothing is above,
  * the notebook's relabelling (see `notebook_relabel`),
and records a SHA-256 of each result. For a few slices it also stores the full Felzenszwalb label array, so
a test can say how far apart two partitions are, not only that they differ.

The slice is taken as SimpleITK hands it to the notebook: GetArrayFromImage gives (z, y, x), so slice z is
a (y rows, x columns) array. nibabel gives (x, y, z), so that is data[:, :, z].T.

Outputs (all integers little-endian):
  index.json            versions, parameters, per-slice hashes and counts, where each stored slice is, and
                        np.argsort of a tie-heavy array (see `argsort_case`), the Gaussian kernel's bits
  felzenszwalb.i32.gz   gzip of the stored slices' int32 label arrays, concatenated, each row-major (y, x)
"""
import gzip
import hashlib
import json
import math
import os

import nibabel
import numpy as np
import scipy
import scipy.ndimage
import skimage
import skimage.measure
import skimage.segmentation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "Tests", "TestData")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "superpixels")

PIDS = [15, 39]
FG_THRESH = 1e-4 + 50  # the notebook's CHAOS-T2 threshold
# Slices whose full Felzenszwalb labels are stored. pid 15 slice 2 is one where a stable sort of the edge
# costs would give a different partition than NumPy's default (introsort) argsort, so it checks the sort.
STORED = {15: [2, 12, 20], 39: [4, 14, 22]}


def body_mask(slice2d):
    """The notebook's fg_mask2d, restated."""
    above = np.float32(slice2d > FG_THRESH)
    if above.max() < 0.999:
        return above.astype(bool)
    components = skimage.measure.label(above)
    largest = components == np.argmax(np.bincount(components.flat)[1:]) + 1
    return scipy.ndimage.binary_fill_holes(largest)


def notebook_relabel(segments, mask):
    """The notebook's superpix_masking, restated. Felzenszwalb labels are 0..K-1. Label 0 is first moved to K;
    the loop then visits 0, 1, ..., K-1 and K-1 once more (the notebook appends max(labels) = K-1, not K), giving
    the n-th visited nonzero value the number n. So label k in 1..K-2 keeps its number, K-1 ends up as K, and
    the segment Felzenszwalb numbered 0 is never visited and is dropped. Pixels outside the mask are 0; a
    segment wholly outside leaves its number unused."""
    seg = segments.astype(np.int32)
    top = int(seg.max())
    seg[seg == 0] = top + 1
    seg = seg * mask
    out = np.zeros(seg.shape, np.int32)
    number = 1
    for value in list(range(top + 1)) + [top]:
        if value == 0:
            continue
        out[seg == value] = number
        number += 1
    return out


def argsort_case():
    """NumPy's default argsort is not stable, and Felzenszwalb depends on how it orders equal costs. This array
    (rebuilt in the C# test from the same rule) has many ties and some NaNs, and is long enough for several
    levels of quicksort partitioning."""
    n = 3000
    i = np.arange(n)
    values = ((i * 7919) % 23 // 2).astype(np.float64)
    values[i % 97 == 0] = np.nan
    return {"n": n, "rule": "v[i] = ((i * 7919) % 23) // 2, NaN where i % 97 == 0", "argsort": np.argsort(values).tolist()}


def gaussian_kernel_case():
    """SciPy's sigma=1 kernel taps exp(-x^2/2) / sum, as IEEE bit patterns, twice: with NumPy's exp (on a CPU with
    AVX-512 NumPy 1.24 uses its own, not correctly rounded for some taps) and with the C library's exp (Python's
    math.exp, correctly rounded here). The C# filter uses the second; see GaussianFilter.cs."""
    x = np.arange(-4, 5)
    with_numpy = np.exp(-0.5 * x ** 2)
    with_libm = np.array([math.exp(-0.5 * float(v * v)) for v in x])
    bits = lambda k: [format(int(b), "016x") for b in (k / k.sum()).view(np.uint64)]
    return {"numpy_exp": bits(with_numpy), "libm_exp": bits(with_libm)}


def sha256(array, dtype):
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).hexdigest()


def compact_json(index):
    """One line per top-level entry and per list element: readable diffs without one line per number."""
    lines = []
    for key, value in index.items():
        if isinstance(value, list):
            body = "[\n" + ",\n".join("  " + json.dumps(e) for e in value) + "\n ]"
        else:
            body = json.dumps(value)
        lines.append(f" {json.dumps(key)}: {body}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    slices = []
    stored = []
    blob = bytearray()
    for pid in PIDS:
        volume = nibabel.load(os.path.join(DATA, f"image_{pid}.nii.gz")).get_fdata()
        for z in range(volume.shape[2]):
            image = volume[:, :, z].T  # (y, x), as SimpleITK gives it
            segments = skimage.segmentation.felzenszwalb(image, scale=1, sigma=1, min_size=400)
            mask = body_mask(image)
            pseudo = notebook_relabel(segments, mask)
            slices.append({
                "pid": pid, "z": z,
                "felzenszwalb_count": int(segments.max()) + 1,
                "felzenszwalb_sha256": sha256(segments, "i4"),
                "mask_pixels": int(mask.sum()),
                "mask_sha256": sha256(mask, "u1"),
                "pseudolabel_max": int(pseudo.max()),
                "pseudolabel_sha256": sha256(pseudo, "i4"),
            })
            if z in STORED[pid]:
                stored.append({"pid": pid, "z": z, "height": image.shape[0], "width": image.shape[1],
                               "offset": len(blob)})
                blob += np.ascontiguousarray(segments, dtype="<i4").tobytes()
    index = {
        "generator": "tools/make_superpixel_fixtures.py",
        "versions": {"skimage": skimage.__version__, "scipy": scipy.__version__, "numpy": np.__version__,
                     "nibabel": nibabel.__version__},
        "felzenszwalb": {"scale": 1, "sigma": 1, "min_size": 400},
        "fg_thresh": FG_THRESH,
        "hashes": "SHA-256 of the row-major (y, x) slice: Felzenszwalb labels and pseudo-labels as int32, mask as uint8 0/1",
        "slices": slices,
        "stored": stored,
        "argsort": argsort_case(),
        "gaussian_kernel_sigma1": gaussian_kernel_case(),
    }
    with open(os.path.join(OUT, "index.json"), "w") as f:
        f.write(compact_json(index))
    # mtime=0 and no file name, so regenerating gives the same bytes
    with open(os.path.join(OUT, "felzenszwalb.i32.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
            f.write(bytes(blob))
    print(f"{len(slices)} slices hashed, {len(stored)} stored ({len(blob)} bytes before gzip) in {OUT}")


if __name__ == "__main__":
    main()
