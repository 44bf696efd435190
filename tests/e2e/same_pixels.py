"""Compares an image that poppler extracted from a PDF with a page of the input file, decoded by
Pillow (libtiff, libpng, libjpeg): a check independent of scanwerk's own decoders.

usage: same_pixels.py EXTRACTED.png SOURCE PAGE_INDEX TOLERANCE
Alpha is flattened onto white, as scanwerk documents. Prints the number of samples that differ by
more than TOLERANCE and the largest difference; exits 1 if any does.
"""
import sys

from PIL import Image, ImageChops


def flattened(image):
    if image.mode in ("RGBa", "La"):
        # Premultiplied: only the paper shows through where alpha is below full.
        image = image.convert(image.mode[0:-1].upper() + "A")
    if image.mode in ("RGBA", "LA", "PA", "P") and (
        image.mode != "P" or "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def main():
    extracted, source, page, tolerance = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    a = Image.open(extracted).convert("RGB")
    src = Image.open(source)
    src.seek(page)
    b = flattened(src)
    if a.size != b.size:
        print(f"size {a.size} != {b.size}")
        sys.exit(1)
    diff = ImageChops.difference(a, b)
    histogram = diff.histogram()
    largest = max(i % 256 for i, n in enumerate(histogram) if n)
    over = sum(n for i, n in enumerate(histogram) if i % 256 > tolerance)
    print(f"{over} {largest}")
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
