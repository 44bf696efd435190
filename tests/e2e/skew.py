#!/usr/bin/python3
"""Independent skew measurement for the e2e tests (Pillow + numpy, no leptonica).

Usage: skew.py IMAGE...   prints one line per image: "<degrees>" or "none".

Method: projection profile. Dark pixels are projected onto the vertical axis after a shear by
each candidate angle; text lines give the sharpest profile (largest sum of squared differences
between neighbouring rows) when the shear undoes the skew. Coarse search over ±6° in 0.1° steps,
then a fine search ±0.1° around the best in 0.01° steps.

Sign: the angle the text lines rise by, counter-clockwise positive in image terms (a line that
climbs to the right, i.e. y decreases as x grows, has a positive angle). A page with too few
dark pixels, or a profile without a clear peak, prints "none".
"""
import sys

import numpy as np
from PIL import Image


def dark_points(path):
    img = Image.open(path).convert("L")
    # Large pages: work at about 1500 px on the long side, enough for 0.05°.
    scale = max(img.size) / 1500.0
    if scale > 1:
        img = img.resize((int(img.width / scale), int(img.height / scale)), Image.BILINEAR)
    a = np.asarray(img, dtype=np.uint8)
    threshold = min(128, int(a.mean() * 0.6))
    ys, xs = np.nonzero(a < threshold)
    return xs.astype(np.float64), ys.astype(np.float64), a.shape[0]


def sharpness(xs, ys, height, degrees):
    # A line rising by +d degrees has y = y0 - x*tan(d); adding x*tan(d) makes it flat.
    shifted = ys + xs * np.tan(np.radians(degrees))
    offset = shifted.min()
    hist = np.bincount((shifted - offset).astype(np.int64))
    diff = np.diff(hist.astype(np.float64))
    return float((diff * diff).sum())


def measure(path):
    xs, ys, height = dark_points(path)
    if xs.size < 2000:
        return None
    coarse = np.arange(-6.0, 6.0001, 0.1)
    scores = np.array([sharpness(xs, ys, height, d) for d in coarse])
    best = float(coarse[int(scores.argmax())])
    # A flat profile (best no better than the median by 10 %) has no measurable skew.
    if scores.max() < 1.1 * np.median(scores):
        return None
    fine = np.arange(best - 0.1, best + 0.1001, 0.01)
    scores = [sharpness(xs, ys, height, d) for d in fine]
    return float(fine[int(np.argmax(scores))])


def main():
    for path in sys.argv[1:]:
        d = measure(path)
        print("none" if d is None else f"{d:.2f}")


if __name__ == "__main__":
    main()
