#!/usr/bin/env python3
"""Renders a synthetic batch of N A4 pages at 300 dpi for the benchmarks (scripts/bench.sh,
scripts/memory-scaling.sh): documents of 10 pages, alternately a bilevel CCITT G4 multi-page TIFF
(what office scanners write for text) and a folder of grey JPEGs (colour-mode scans), German
business text in DejaVu Serif. Deterministic for a given N.

    python3 scripts/make-bench-batch.py OUT_DIR [PAGES] [--single-document]

Needs Pillow with libtiff and the DejaVu fonts (Debian: python3-pil, fonts-dejavu-core).
"""
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
WORDS = (
    "Antrag Bescheid Förderung Zuschuss Gemeinde Verwaltung Straßenverkehrsamt Widerspruch "
    "Auszahlung Konto Frist Monat Euro Bürger Grundstück Genehmigung Bauamt Unterlagen Prüfung "
    "Anlage Schreiben Verfahren Entscheidung Begründung Rechtsbehelf Belehrung Sachbearbeitung "
    "Aktenzeichen Eingang Ausgang Stellungnahme Gutachten Nachweis Erklärung Vollmacht Vertrag "
    "der die das und mit für von auf den dem des ist wird wurde nach über unter gemäß bis zum"
).split()
W, H = 2480, 3508


def page(rng, number):
    img = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(img)
    title = ImageFont.truetype(SERIF, 64)
    body = ImageFont.truetype(SERIF, 42)
    draw.text((250, 250), f"Stadt Weißenfels · Vorgang {number:04d}", font=title, fill=0)
    y = 450
    while y < H - 350:
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 12))]
        draw.text((250, y), " ".join(words).capitalize() + ".", font=body, fill=0)
        y += 66
    return img


def main():
    out = sys.argv[1]
    pages = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 200
    single = "--single-document" in sys.argv
    rng = random.Random(pages)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "batch.toml"), "w") as f:
        f.write(f'id = "bench-{pages}"\noperator = "Benchmark"\nscanned = "2026-11-20T09:30:00+01:00"\n')
    if single:
        images = [page(rng, n).convert("1") for n in range(1, pages + 1)]
        images[0].save(os.path.join(out, "document.tif"), save_all=True, append_images=images[1:],
                       compression="group4", dpi=(300, 300))
        return
    number = 0
    doc = 0
    while number < pages:
        doc += 1
        count = min(10, pages - number)
        images = []
        for _ in range(count):
            number += 1
            images.append(page(rng, number))
        if doc % 2 == 1:
            bilevel = [i.convert("1") for i in images]
            bilevel[0].save(os.path.join(out, f"doc{doc:03d}.tif"), save_all=True,
                            append_images=bilevel[1:], compression="group4", dpi=(300, 300))
        else:
            folder = os.path.join(out, f"doc{doc:03d}")
            os.makedirs(folder, exist_ok=True)
            for i, img in enumerate(images, 1):
                img.save(os.path.join(folder, f"p{i:02d}.jpg"), quality=85, dpi=(300, 300))


if __name__ == "__main__":
    main()
