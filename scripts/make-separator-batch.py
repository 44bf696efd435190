#!/usr/bin/env python3
"""Writes a flat scanned stack with separator sheets, as a scan centre feeds it: 30 pages, of which
5 are separator sheets (Kodak patch codes drawn to the specification, barcodes made by zint), some
fed upside down, some skewed, between 6 documents. Barcodes are made by zint and pages by Pillow,
independently of scanwerk's readers.

usage: make-separator-batch.py OUT_DIR

Pages 1-16 are one multi-page CCITT G4 TIFF at 300 dpi (a document and a separator inside it),
pages 17-30 single files at 200 dpi (grey PNG, one JPEG). Page 6 carries a Code 39 barcode that is
not a separator (it does not match the pattern `AZ …`). The stack, by position:

   1- 3  document 1
   4     Patch T, upright
   5- 8  document 2 (page 6 with a Code 39 "INV-2026-555" in its corner)
   9     Code 128 "AZ 63.2-0815/2026", fed upside down
  10-14  document 3
  15     QR code "AZ 63.2-0816/2026", skewed 8 degrees
  16-19  document 4 (16 in the TIFF, 17-19 single files)
  20     Patch 3, upside down and skewed 5 degrees (JPEG)
  21-25  document 5
  26     DataMatrix "AZ 63.2-0817/2026", skewed -6 degrees
  27-30  document 6
"""
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw, ImageFont

A4 = (8.27, 11.69)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

PATCH = {"1": "WNNW", "2": "WNWN", "3": "WWNN", "4": "NWWN", "6": "NNWW", "T": "NWNW"}


def blank(dpi):
    return Image.new("L", (round(A4[0] * dpi), round(A4[1] * dpi)), 255)


def font(dpi, points):
    return ImageFont.truetype(FONT, round(points * dpi / 72))


def content(document, page, dpi):
    image = blank(dpi)
    draw = ImageDraw.Draw(image)
    x = round(1.0 * dpi)
    draw.text((x, round(1.2 * dpi)), f"Dokument {document} Seite {page}", font=font(dpi, 28), fill=0)
    body = font(dpi, 14)
    for line in range(6):
        y = round((2.2 + 0.4 * line) * dpi)
        draw.text((x, y), f"Zeile {line + 1} des Dokuments {document}, Blatt {page}.", font=body, fill=0)
    return image


def patch_sheet(code, dpi):
    """Bars parallel to the top edge, half an inch in, narrow 0.08 in, wide 0.2 in, gaps 0.08 in."""
    image = blank(dpi)
    draw = ImageDraw.Draw(image)
    y = 0.5 * dpi
    for bar in PATCH[code]:
        height = (0.2 if bar == "W" else 0.08) * dpi
        draw.rectangle([round(1.0 * dpi), round(y), round((A4[0] - 1.0) * dpi), round(y + height) - 1], fill=0)
        y += height + 0.08 * dpi
    draw.text((round(2.5 * dpi), round(4 * dpi)), f"PATCH {code}", font=font(dpi, 60), fill=0)
    return image


def barcode_sheet(symbology, value, dpi, workdir):
    """A separator sheet: the barcode (zint) in the upper half and its value printed below."""
    kinds = {"code128": ("20", ["--height=50"]), "code39": ("8", ["--height=50"]),
             "qr": ("58", []), "datamatrix": ("71", [])}
    number, extra = kinds[symbology]
    # zint draws a module 2 pixels per unit of scale: about 0.35 mm (1D) and 1 mm (2D) modules.
    scale = dpi / 150 if symbology.startswith("code") else dpi / 50
    path = os.path.join(workdir, f"{symbology}.png")
    subprocess.run(["zint", "-b", number, f"--scale={scale}", *extra, "-d", value, "-o", path], check=True)
    code = Image.open(path).convert("L")
    image = blank(dpi)
    image.paste(code, ((image.width - code.width) // 2, round(1.5 * dpi)))
    draw = ImageDraw.Draw(image)
    draw.text((round(1.5 * dpi), round(6 * dpi)), f"Trennblatt {value}", font=font(dpi, 24), fill=0)
    return image


def small_code39(page, value, dpi, workdir):
    path = os.path.join(workdir, "inv.png")
    subprocess.run(["zint", "-b", "8", "--scale=1.5", "--height=30", "-d", value, "-o", path], check=True)
    code = Image.open(path).convert("L")
    page.paste(code, (page.width - code.width - round(0.5 * dpi), page.height - code.height - round(0.5 * dpi)))
    return page


def turned(image, degrees):
    return image.rotate(degrees, resample=Image.BILINEAR, fillcolor=255, expand=False)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    stack = []  # (image, dpi)
    with tempfile.TemporaryDirectory() as work:
        def document(number, pages, dpi_of):
            for page in range(1, pages + 1):
                dpi = dpi_of(len(stack) + 1)
                image = content(number, page, dpi)
                if (number, page) == (2, 2):
                    image = small_code39(image, "INV-2026-555", dpi, work)
                stack.append((image, dpi))

        dpi_of = lambda position: 300 if position <= 16 else 200
        document(1, 3, dpi_of)
        stack.append((patch_sheet("T", 300), 300))
        document(2, 4, dpi_of)
        stack.append((turned(barcode_sheet("code128", "AZ 63.2-0815/2026", 300, work), 180), 300))
        document(3, 5, dpi_of)
        stack.append((turned(barcode_sheet("qr", "AZ 63.2-0816/2026", 300, work), 8), 300))
        document(4, 4, dpi_of)
        stack.append((turned(patch_sheet("3", 200), 185), 200))
        document(5, 5, dpi_of)
        stack.append((turned(barcode_sheet("datamatrix", "AZ 63.2-0817/2026", 200, work), -6), 200))
        document(6, 4, dpi_of)
    assert len(stack) == 30, len(stack)

    bilevel = [image.point(lambda v: 255 if v >= 128 else 0).convert("1") for image, _ in stack[:16]]
    bilevel[0].save(os.path.join(out, "stapel-001.tif"), save_all=True, append_images=bilevel[1:],
                    compression="group4", dpi=(300, 300))
    for position in range(17, 31):
        image, dpi = stack[position - 1]
        if position == 20:
            image.save(os.path.join(out, f"stapel-{position:03}.jpg"), quality=90, dpi=(dpi, dpi))
        else:
            image.save(os.path.join(out, f"stapel-{position:03}.png"), dpi=(dpi, dpi))


if __name__ == "__main__":
    main()
