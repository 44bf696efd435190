#!/usr/bin/python3
"""Generates separator sheets as scan centres print and scan them, independently of scanwerk.

Barcodes come from zint (Debian `zint`), pages from Pillow: A4 at 200, 300 and 600 dpi; QR,
DataMatrix, Code 128 and Code 39 with module sizes from 4 to 20 px; 1-bit (G4 TIFF / PNG), grey
PNG and colour JPEG; upright, upside down and skewed up to ±10°; with and without the word
"Trennblatt", a letterhead and body text near the code. Beside them: document pages that carry a
barcode that must not separate (its value does not match the pattern) and pages with only text.

    scripts/make-sheets.py OUT_DIR [--quick]

writes the images into OUT_DIR/pages/ and OUT_DIR/expected.json: {file: value of the sheet, or
null for no sheet};

    scripts/make-sheets.py OUT_DIR --duplex

writes a 40-page duplex stack (blank backs, four QR and two Patch T sheets) into OUT_DIR/stack/
and OUT_DIR/duplex.json (pages, sheets, sheets of paper per document).
The pattern the sheets match is '^AZ (?P<file_number>.+)$'. Deterministic: same set every run.
"""

import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SYMBOLOGIES = {"qr": "QRCODE", "datamatrix": "DATAMATRIX", "code128": "CODE128", "code39": "CODE39"}
TWO_D = {"qr", "datamatrix"}


def code_image(symbology, value, module, height_px):
    """The barcode at `module` px per module, with its quiet zone, black on white ("L")."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "code.png")
        args = ["zint", "-b", SYMBOLOGIES[symbology], "--scale=0.5", "--notext", "-o", out, "-d", value]
        if symbology not in TWO_D:
            args.append("--height=1")
        subprocess.run(args, check=True, capture_output=True)
        code = Image.open(out).convert("L")
    # zint at scale 0.5 draws one pixel per module; bars of a 1D code one row high.
    w, h = code.size
    if symbology in TWO_D:
        code = code.resize((w * module, h * module), Image.NEAREST)
        quiet = 4 * module
    else:
        code = code.resize((w * module, height_px), Image.NEAREST)
        quiet = 10 * module
    framed = Image.new("L", (code.width + 2 * quiet, code.height + 2 * quiet), 255)
    framed.paste(code, (quiet, quiet))
    return framed


def font(dpi, points):
    return ImageFont.truetype(FONT, max(6, round(points * dpi / 72)))


def page(dpi):
    return Image.new("L", (round(8.27 * dpi), round(11.69 * dpi)), 255)


def letterhead(draw, dpi):
    draw.text((round(0.8 * dpi), round(0.6 * dpi)), "Landratsamt Musterstadt", font=font(dpi, 16), fill=0)
    draw.text((round(0.8 * dpi), round(0.9 * dpi)), "Poststelle · Scanzentrum · Am Markt 1",
              font=font(dpi, 9), fill=60)
    y = round(1.15 * dpi)
    draw.line((round(0.8 * dpi), y, round(7.5 * dpi), y), fill=0, width=max(1, dpi // 100))


BODY = ("Sehr geehrte Damen und Herren, wir bestätigen den Eingang Ihres Antrags vom 3. November "
        "und bitten um Geduld bis zur Entscheidung. Die Unterlagen werden vollständig geprüft.")


def body(draw, dpi, top, lines=14):
    f = font(dpi, 11)
    for i in range(lines):
        draw.text((round(0.8 * dpi), top + i * round(0.22 * dpi)), BODY[(i * 7) % 40:][:78], font=f, fill=0)


def finish(img, form, angle, rng):
    """Turns and scans the printed page: skew or upside down, then 1-bit, grey or colour JPEG."""
    if angle:
        img = img.rotate(angle, resample=Image.BILINEAR, fillcolor=255)
    if form == "1bit":
        return img.point(lambda v: 255 if v > 140 else 0).convert("1")
    img = img.filter(ImageFilter.GaussianBlur(0.7))
    img = Image.blend(img, Image.effect_noise(img.size, 40), 0.04)
    if form == "grey":
        return img
    tint = Image.new("RGB", img.size, (250, 246, 236))
    return Image.composite(Image.merge("RGB", [img, img, img]), tint, img.point(lambda v: 255 - v))


def save(img, path, form, dpi):
    if form == "1bit" and path.endswith(".tif"):
        img.save(path, compression="group4", dpi=(dpi, dpi))
    elif form == "jpeg":
        img.save(path, quality=85, dpi=(dpi, dpi))
    else:
        img.save(path, dpi=(dpi, dpi), compress_level=1)


def sheet(symbology, value, module, dpi, form, angle, text, rng):
    img = page(dpi)
    draw = ImageDraw.Draw(img)
    code = code_image(symbology, value, module, round(0.6 * dpi))
    x = (img.width - code.width) // 2 + rng.randint(-dpi // 2, dpi // 2)
    y = round(3.0 * dpi) + rng.randint(0, dpi)
    if text:
        letterhead(draw, dpi)
        draw.text((x + 4 * module, y - round(0.25 * dpi)), "Trennblatt", font=font(dpi, 10), fill=0)
        body(draw, dpi, y + code.height + round(0.3 * dpi), lines=6)
    img.paste(code, (x, y))
    return finish(img, form, angle, rng)


def document_page(dpi, form, angle, code, rng):
    img = page(dpi)
    draw = ImageDraw.Draw(img)
    letterhead(draw, dpi)
    body(draw, dpi, round(1.6 * dpi), lines=30)
    if code:
        symbology, value = code
        c = code_image(symbology, value, 4 if symbology in TWO_D else 3, round(0.4 * dpi))
        img.paste(c, (img.width - c.width - round(0.5 * dpi), round(0.3 * dpi)))
    return finish(img, form, angle, rng)


def sheet_set(quick):
    """The sheets and pages of the set: (name, kind, arguments, expected value or None)."""
    rng = random.Random(18)
    jobs = []
    forms = ["1bit", "grey", "jpeg"]
    dpis = [200, 300, 600]
    modules = [4, 6, 10, 14, 20]
    n = 0
    for symbology in SYMBOLOGIES:
        for mi, module in enumerate(modules):
            for fi, form in enumerate(forms):
                n += 1
                dpi = dpis[(mi + fi + n) % 3]
                # 600 dpi pages only with modules of at least 6 px (0.25 mm), 200 dpi at most 14 px.
                if dpi == 600 and module < 6:
                    dpi = 300
                if dpi == 200 and module > 14:
                    dpi = 300
                kind = n % 4
                angle = {0: 0, 1: 180, 2: rng.choice([-1, 1]) * rng.uniform(2, 5),
                         3: rng.choice([-1, 1]) * rng.uniform(5, 10)}[kind]
                if symbology not in TWO_D and kind == 3:
                    angle = rng.choice([-1, 1]) * rng.uniform(2, 5)
                value = f"AZ 2026-{3100 + n}/{mi + 1}"
                if symbology not in TWO_D:
                    # A 1D sheet code spans at most 80 % of the page: a wider one is printed smaller.
                    modules_wide = code_image(symbology, value, 1, 1).width
                    module = min(module, int(0.8 * 8.27 * dpi / modules_wide))
                if quick and n % 3:
                    continue
                ext = {"1bit": "tif" if n % 2 else "png", "grey": "png", "jpeg": "jpg"}[form]
                name = f"sheet-{n:03d}-{symbology}-m{module}-{dpi}dpi-{form}-{angle:+.1f}.{ext}"
                jobs.append((name, "sheet", (symbology, value, module, dpi, form, angle, bool(n % 2)), value))
    # The sheet of the report in issue 18: 300 dpi, 1-bit, QR version 2 at 14 px, skewed 2–5°.
    for i, angle in enumerate([2.0, -3.5, 5.0]):
        value = f"AZ 2026-3119/{i + 1}"
        jobs.append((f"sheet-issue18-{i + 1}.tif", "sheet", ("qr", value, 14, 300, "1bit", angle, True), value))
    # Document pages: barcodes that do not match the pattern, and text only.
    others = [("code128", "INV-778812"), ("qr", "https://example.org/formular/17"),
              ("datamatrix", "DE-BY-0042"), ("code39", "KD 48812"), None, None]
    for i, code in enumerate(others * (1 if quick else 2)):
        form = forms[i % 3]
        dpi = [300, 200, 300][i % 3]
        angle = [0, 180, 1.5, -2.5][i % 4]
        name = f"page-{i + 1:02d}-{code[0] if code else 'text'}-{form}.{'jpg' if form == 'jpeg' else 'png'}"
        jobs.append((name, "page", (dpi, form, angle, code), None))
    return jobs


def make(job):
    out, (name, kind, args, _), seed = job
    rng = random.Random(seed)
    if kind == "sheet":
        symbology, value, module, dpi, form, angle, text = args
        img = sheet(symbology, value, module, dpi, form, angle, text, rng)
    else:
        dpi, form, angle, code = args
        img = document_page(dpi, form, angle, code, rng)
    save(img, os.path.join(out, name), form, dpi)


PATCH = {"T": "NWNW"}


def patch_sheet(dpi):
    """Patch T: four bars parallel to the top edge, half an inch in (narrow 0.08 in, wide 0.2 in)."""
    img = page(dpi)
    draw = ImageDraw.Draw(img)
    y = 0.5 * dpi
    for bar in PATCH["T"]:
        height = (0.2 if bar == "W" else 0.08) * dpi
        draw.rectangle([round(1.0 * dpi), round(y), round(7.27 * dpi), round(y + height) - 1], fill=0)
        y += height + 0.08 * dpi
    draw.text((round(2.5 * dpi), round(4 * dpi)), "PATCH T", font=font(dpi, 60), fill=0)
    return img


def duplex(out):
    """A 40-page duplex stack: 20 sheets of paper, each front then back, all backs blank (a little
    scanner noise). Six separator sheets (four QR, two Patch T) between seven documents of
    3, 2, 3, 2, 1, 2, 1 sheets. 1-bit 300 dpi TIFFs, one per page, in stack order."""
    stack = os.path.join(out, "stack")
    os.makedirs(stack, exist_ok=True)
    rng = random.Random(40)
    plan = [("doc", 3), ("qr", "AZ 2026-4001/1"), ("doc", 2), ("patch", None), ("doc", 3),
            ("qr", "AZ 2026-4002/2"), ("doc", 2), ("qr", "AZ 2026-4003/3"), ("doc", 1),
            ("patch", None), ("doc", 2), ("qr", "AZ 2026-4004/4"), ("doc", 1)]
    pages, documents = [], []
    for kind, arg in plan:
        if kind == "doc":
            documents.append(arg)
            for _ in range(arg):
                pages.append(document_page(300, "1bit", rng.uniform(-1, 1), None, rng))
                pages.append(back(rng))
        elif kind == "qr":
            pages.append(sheet("qr", arg, 10, 300, "1bit", rng.uniform(-3, 3), True, rng))
            pages.append(back(rng))
        else:
            pages.append(finish(patch_sheet(300), "1bit", 180 if len(documents) > 3 else 0, rng))
            pages.append(back(rng))
    assert len(pages) == 40, len(pages)
    for i, img in enumerate(pages):
        img.save(os.path.join(stack, f"{i + 1:03d}.tif"), compression="group4", dpi=(300, 300))
    return {"pages": 40, "sheets": 6, "documents": documents}


def back(rng):
    """A blank back side as a scanner sees it: a few specks of dust."""
    img = page(300)
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = rng.randrange(img.width), rng.randrange(img.height)
        draw.point((x, y), fill=0)
    return img.convert("1")


def main():
    out = sys.argv[1]
    quick = "--quick" in sys.argv
    if "--duplex" in sys.argv:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "duplex.json"), "w") as f:
            json.dump(duplex(out), f, indent=1)
        return
    pages = os.path.join(out, "pages")
    os.makedirs(pages, exist_ok=True)
    jobs = sheet_set(quick)
    with multiprocessing.Pool() as pool:
        pool.map(make, [(pages, job, i) for i, job in enumerate(jobs)])
    expected = {name: value for name, _, _, value in jobs}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    print(f"{len(expected)} pages, {sum(v is not None for v in expected.values())} sheets, in {out}")


if __name__ == "__main__":
    main()
