#!/usr/bin/python3
"""Input fixtures in the formats the README lists that no real scan covers, made with Pillow and
zlib (independently of scanwerk's decoders): TIFF PackBits, LZW RGB and 16-bit grey; PNG 2-, 4-
and 16-bit grey; and CCITT G3 TIFF and CMYK TIFF and JPEG, which scanwerk refuses.

    make_formats.py OUT_DIR        writes OUT_DIR/ok/* (to be ingested) and OUT_DIR/refused/*
    make_formats.py --same16 PDF SOURCE
                                   compares the PDF's 16-bit image (pdfimages -list, qpdf) with
                                   the source's samples (Pillow); exits 1 if any differs
"""
import os
import struct
import subprocess
import sys
import zlib

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def page(size=(850, 1100)):
    """A small page: a grey ramp across the top, then text."""
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    for x in range(size[0]):
        draw.line((x, 0, x, 80), fill=x * 255 // (size[0] - 1))
    font = ImageFont.truetype(FONT, 28)
    for i in range(12):
        draw.text((60, 140 + 60 * i), f"Zeile {i + 1}: Prüfung der Eingangsformate", font=font, fill=0)
    return img


def png_grey(img, bits, path):
    """A grey PNG of `bits` bits per sample, written by hand (IHDR, IDAT, IEND, pHYs 100 dpi)."""
    levels = (1 << bits) - 1
    w, h = img.size
    rows = []
    px = img.load()
    for y in range(h):
        values = [round(px[x, y] * levels / 255) for x in range(w)]
        if bits == 16:
            row = b"".join(struct.pack(">H", v) for v in values)
        else:
            per = 8 // bits
            row = bytearray()
            for i in range(0, w, per):
                byte = 0
                for j in range(per):
                    v = values[i + j] if i + j < w else 0
                    byte |= v << (8 - bits * (j + 1))
                row.append(byte)
            row = bytes(row)
        rows.append(b"\0" + row)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ppm = round(100 / 0.0254)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, 0, 0, 0, 0)))
        f.write(chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        f.write(chunk(b"IDAT", zlib.compress(b"".join(rows))))
        f.write(chunk(b"IEND", b""))


def same16(pdf, source):
    """The PDF's one image, its samples as qpdf decodes the stream (16-bit big-endian, as PDF
    stores them), against Pillow's samples of the source."""
    listing = subprocess.run(["pdfimages", "-list", pdf], capture_output=True, text=True, check=True)
    row = listing.stdout.splitlines()[2].split()
    width, height, bpc, obj = int(row[3]), int(row[4]), int(row[7]), row[10]
    if bpc != 16:
        sys.exit(f"the PDF keeps {bpc} bits per sample, not 16")
    data = subprocess.run(["qpdf", f"--show-object={obj}", "--filtered-stream-data", pdf],
                          capture_output=True, check=True).stdout
    samples = struct.unpack(f">{width * height}H", data)
    b = Image.open(source)
    if b.size != (width, height):
        sys.exit(f"size {(width, height)} != {b.size}")
    differ = sum(1 for x, y in zip(samples, b.getdata()) if x != y)
    print(differ)
    sys.exit(1 if differ else 0)


def main():
    if sys.argv[1] == "--same16":
        return same16(sys.argv[2], sys.argv[3])
    out = sys.argv[1]
    ok, cmyk = os.path.join(out, "ok"), os.path.join(out, "refused")
    os.makedirs(ok, exist_ok=True)
    os.makedirs(cmyk, exist_ok=True)
    grey = page()
    bilevel = grey.point(lambda v: 255 if v > 128 else 0).convert("1")
    bilevel.save(os.path.join(cmyk, "g3.tif"), compression="group3", dpi=(100, 100))
    grey.save(os.path.join(ok, "packbits.tif"), compression="packbits", dpi=(100, 100))
    grey.convert("RGB").save(os.path.join(ok, "lzw-rgb.tif"), compression="tiff_lzw", dpi=(100, 100))
    # 16-bit samples that are not just 8-bit ones widened: the low byte varies too.
    deep = Image.frombytes(
        "I;16", grey.size, b"".join(struct.pack("<H", min(65535, v * 257 + v % 7)) for v in grey.getdata()))
    deep.save(os.path.join(ok, "grey16.tif"), dpi=(100, 100))
    for bits in (2, 4, 16):
        png_grey(grey, bits, os.path.join(ok, f"grey{bits}.png"))
    colour = grey.convert("RGB")
    colour.convert("CMYK").save(os.path.join(cmyk, "cmyk.jpg"), dpi=(100, 100))
    colour.convert("CMYK").save(os.path.join(cmyk, "cmyk.tif"), dpi=(100, 100))


if __name__ == "__main__":
    main()
