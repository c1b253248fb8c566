#!/usr/bin/python3
"""Generates Tests/Fixtures/prepare/expected.json: NumPy/SciPy reference values for `ilgpuseg prepare`
(SSL-ALPNet preprocessing, PROTOCOL.md section 5).

Run from the repository root:  /usr/bin/python3 tools/make_prepare_fixtures.py
(Debian's Python; it has numpy, scipy and nibabel. SimpleITK is not installed, so its resampling is restated.)

What is restated here, independently of the C# code:
  * np.percentile (default linear method) and the MR clip; for an integer image the clip value is truncated,
    as NumPy does when the notebook assigns the float threshold into the int16 array;
  * the CT window: clip to [-125, 275], then (v - min) / (max - min) * 255;
  * SimpleITK ResampleImageFilter, linear, origin and direction kept, size int(n * old/new + 1): output index i
    samples the input at continuous index i * new / old; indices at or beyond n - 0.5 get 0; between n - 1 and
    n - 0.5 the upper neighbour is clamped. The values are ITK's cascade (x, then y, then z, a + (b - a) * d),
    and the script checks that cascade against scipy.ndimage.map_coordinates(order=1) on the same grid
    (agreement to 1e-9) before storing it;
  * labels per value: float32 binary mask resampled, np.rint, merged in increasing label order;
  * the MR centre crop/pad to 256 x 256 (output j reads input j + n // 2 - (256 + 1) // 2, pad = image min).

Arrays are nibabel's (x, y, z); flattened values are in x-fastest (Fortran) order, as the C# Volume stores them.
"""
import hashlib
import json
import os

import nibabel
import numpy as np
import scipy.ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "Tests", "TestData")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "prepare")
LABEL_MAP = {5: 1, 2: 2, 3: 3, 1: 4}  # TotalSegmentator liver, kidneys, spleen -> CHAOS ids
SAMPLES = 200


def output_size(n, old, new):
    return int(n * (old / new) + 1)


def axis_table(n, old, new):
    size = output_size(n, old, new)
    index = np.arange(size) * new / old
    inside = index < n - 0.5
    low = np.minimum(np.floor(index), n - 1).astype(int)
    high = np.minimum(low + 1, n - 1)
    return index, inside, low, high, index - np.floor(index)


def resample_itk(volume, old, new, cast):
    """ITK's linear cascade on the whole grid at once."""
    (ix, inx, x0, x1, dx), (iy, iny, y0, y1, dy), (iz, inz, z0, z1, dz) = (
        axis_table(volume.shape[a], old[a], new[a]) for a in range(3))
    v = volume.astype(np.float64)
    X0, Y0, Z0 = np.ix_(x0, y0, z0)
    X1, Y1, Z1 = np.ix_(x1, y1, z1)
    DX, DY, DZ = np.ix_(dx, dy, dz)
    lerp = lambda a, b, d: a + (b - a) * d
    val0 = lerp(lerp(v[X0, Y0, Z0], v[X1, Y0, Z0], DX), lerp(v[X0, Y1, Z0], v[X1, Y1, Z0], DX), DY)
    val1 = lerp(lerp(v[X0, Y0, Z1], v[X1, Y0, Z1], DX), lerp(v[X0, Y1, Z1], v[X1, Y1, Z1], DX), DY)
    out = lerp(val0, val1, DZ)
    # np.ix_ would turn boolean arrays into index lists, so broadcast the masks by hand.
    inside = inx[:, None, None] & iny[None, :, None] & inz[None, None, :]
    out = np.where(inside, out, 0.0)

    # Cross-check with SciPy: same grid, linear, edge clamping, then the same outside rule.
    grid = np.meshgrid(ix, iy, iz, indexing="ij")
    reference = scipy.ndimage.map_coordinates(v, grid, order=1, mode="nearest")
    reference = np.where(inside, reference, 0.0)
    assert np.allclose(out, reference, rtol=0, atol=1e-9 * max(1.0, np.abs(v).max())), "cascade disagrees with map_coordinates"

    if cast == "single":
        return out.astype(np.float32).astype(np.float64)
    if cast == "truncate":
        return np.trunc(out)
    return out


def resample_labels(labels, old, new):
    out = np.zeros([output_size(labels.shape[a], old[a], new[a]) for a in range(3)], dtype=np.int64)
    for value in np.unique(labels):
        if value == 0:
            continue
        mask = resample_itk(np.float32(labels == value), old, new, "single")
        out[np.rint(mask) == 1] = value
    return out


def centre_crop(volume, size, pad):
    out = np.full((size, size, volume.shape[2]), pad, dtype=volume.dtype)
    offsets = [volume.shape[a] // 2 - (size + 1) // 2 for a in range(2)]
    for j in range(size):
        sy = j + offsets[1]
        if 0 <= sy < volume.shape[1]:
            for i in range(size):
                sx = i + offsets[0]
                if 0 <= sx < volume.shape[0]:
                    out[i, j, :] = volume[sx, sy, :]
    return out


def flat(a):
    return [float(v) for v in np.asarray(a).flatten(order="F")]


def map_labels(labels):
    out = np.zeros(labels.shape, dtype=np.int64)
    for source, target in LABEL_MAP.items():
        out[labels == source] = target
    return out


def summary(image, labels, rng):
    n = image.size
    picks = rng.choice(n, SAMPLES, replace=False)
    return {
        "shape": list(image.shape),
        "image_sum": float(image.sum()),
        "image_min": float(image.min()),
        "image_max": float(image.max()),
        "sample_indices": [int(i) for i in picks],
        "sample_values": [float(image.flatten(order="F")[i]) for i in picks],
        "label_counts": {str(int(v)): int(c) for v, c in zip(*np.unique(labels, return_counts=True))},
        "label_sha256": hashlib.sha256(labels.astype(np.uint8).flatten(order="F").tobytes()).hexdigest(),
    }


def load(name):
    img = nibabel.load(os.path.join(DATA, name))
    return np.asanyarray(img.dataobj), [float(z) for z in img.header.get_zooms()[:3]]


def main():
    rng = np.random.default_rng(20240605)
    result = {"numpy": np.__version__, "scipy": scipy.__version__, "label_map": {str(k): v for k, v in LABEL_MAP.items()}}

    mr, mr_sp = load("example_mr_sm.nii.gz")
    mr_seg, _ = load("example_seg_mr.nii.gz")
    ct, ct_sp = load("example_ct_sm.nii.gz")
    ct_seg, _ = load("example_seg.nii.gz")

    values = rng.normal(size=101)
    result["percentile"] = {
        "synthetic_values": flat(values),
        "synthetic": {str(p): float(np.percentile(values, p)) for p in [0, 12.5, 50, 99.5, 100]},
        "mr_99.5": float(np.percentile(mr, 99.5)),
        "ct_99.5": float(np.percentile(ct, 99.5)),
    }

    window = np.clip(ct.astype(np.float64), -125, 275)
    window = (window - window.min()) / (window.max() - window.min()) * 255.0
    picks = rng.choice(window.size, SAMPLES, replace=False)
    result["hu_window"] = {
        "sum": float(window.sum()),
        "sample_indices": [int(i) for i in picks],
        "sample_values": [float(window.flatten(order="F")[i]) for i in picks],
    }

    cases = []
    for name, shape, old, new, cast in [
        ("down_x_up_z", (7, 5, 4), (1.0, 1.5, 2.0), (1.6, 1.5, 0.7), "none"),
        ("odd_ratios", (6, 9, 3), (0.9, 1.1, 3.0), (1.25, 1.25, 7.7), "none"),
        ("same_spacing", (4, 3, 2), (2.0, 2.0, 2.0), (2.0, 2.0, 2.0), "none"),
        ("truncate", (5, 6, 5), (3.0, 3.0, 3.0), (1.25, 1.25, 7.7), "truncate"),
        ("single", (5, 4, 3), (1.0, 1.0, 1.0), (0.3, 0.7, 1.3), "single"),
    ]:
        data = rng.normal(scale=50, size=shape)
        if cast == "truncate":
            data = np.round(data)
        out = resample_itk(data, old, new, cast)
        cases.append({"name": name, "shape": list(shape), "old": list(old), "new": list(new), "cast": cast,
                      "input": flat(data), "output_shape": list(out.shape), "output": flat(out)})
    result["resample"] = cases

    labels = rng.choice([0, 0, 0, 1, 2, 5], size=(6, 7, 4))
    old, new = (1.0, 1.0, 2.0), (0.6, 1.7, 0.9)
    result["label_resample"] = {"shape": [6, 7, 4], "old": list(old), "new": list(new), "input": flat(labels),
                                "output_shape": list(resample_labels(labels, old, new).shape),
                                "output": flat(resample_labels(labels, old, new))}

    # MR preset on the TotalSegmentator MR example (int16, so the clip and the resampled values are truncated).
    threshold = np.percentile(mr, 99.5)
    clipped = mr.copy()
    clipped[clipped > threshold] = threshold  # int16 array: NumPy truncates the threshold
    new_sp = (1.25, 1.25, 7.7)
    image = resample_itk(clipped, mr_sp, new_sp, "truncate")
    image = centre_crop(image, 256, image.min())
    labels = centre_crop(resample_labels(map_labels(mr_seg), mr_sp, new_sp), 256, 0)
    result["mr_pipeline"] = summary(image, labels, rng)

    # CT preset on the TotalSegmentator CT example: window, 32 px border crop, in-plane spacing x (58 / 256), z kept.
    border = 32
    cropped = window[border:-border, border:-border, :]
    factor = cropped.shape[0] / 256
    new_sp = (ct_sp[0] * factor, ct_sp[1] * factor, ct_sp[2])
    image = resample_itk(cropped, ct_sp, new_sp, "none")
    labels = resample_labels(map_labels(ct_seg)[border:-border, border:-border, :], ct_sp, new_sp)
    result["ct_pipeline"] = summary(image, labels, rng)
    result["ct_pipeline"]["spacing"] = list(new_sp)

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(result, f)
    print("wrote", os.path.join(OUT, "expected.json"), {k: result[k]["shape"] for k in ["mr_pipeline", "ct_pipeline"]})


if __name__ == "__main__":
    main()
