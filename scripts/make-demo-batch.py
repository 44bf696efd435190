#!/usr/bin/env python3
"""Renders the demo batch in testdata/demo-batch and its ground truth in testdata/demo-gt.

The images are committed; this script documents how they were made and remakes them:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pillow
    /tmp/venv/bin/python scripts/make-demo-batch.py
Needs DejaVu fonts (Debian: fonts-dejavu-core). Each document exercises another input path:
a 1-bit PNG, a folder of a CCITT G4 TIFF and a grey JPEG, and a two-page LZW TIFF.
"""
import os
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")
BATCH = os.path.join(ROOT, "demo-batch")
GT = os.path.join(ROOT, "demo-gt")
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

DOCS = {
    "bescheid": [[
        "Stadt Weißenfels - Straßenverkehrsamt",
        "Bescheid über die Förderung",
        "Sehr geehrte Frau Müller,",
        "auf Ihren Antrag vom 12. März 2026 gewähren wir",
        "Ihnen einen Zuschuss in Höhe von 1.250,00 Euro.",
        "Die Auszahlung erfolgt über Ihr Konto bei der",
        "Sparkasse Göttingen. Gegen diesen Bescheid können",
        "Sie innerhalb eines Monats Widerspruch erheben.",
        "Mit freundlichen Grüßen",
    ]],
    "antrag": [[
        "Antrag auf Erstattung von Reisekosten",
        "Name: Jürgen Weiß, Büro 2.14",
        "Reiseziel: Fürth, Dauer: drei Tage",
        "Übernachtung und Verpflegung gemäß Gesetz",
    ], [
        "Anlage zum Antrag",
        "Quittungen über Fahrkarten der Bahn",
        "Bestätigung der Dienststelle liegt bei.",
        "Ort, Datum, Unterschrift: Köln, 3. Mai 2026",
    ]],
    "akte": [[
        "Aktenvermerk Nr. 7",
        "Gespräch mit Herrn Öztürk über die Schließung",
        "der Außenstelle am Marktplatz.",
    ], [
        "Seite zwei des Vermerks",
        "Ergebnis: Die Außenstelle bleibt geöffnet,",
        "die Öffnungszeiten ändern sich ab Juli.",
    ]],
}


def render(lines, dpi, font_path, width_in=8.27, height_in=4.6):
    w, h = int(width_in * dpi), int(height_in * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    size = int(dpi * 0.16)  # about 11.5 pt
    font = ImageFont.truetype(font_path, size)
    y = int(dpi * 0.6)
    for line in lines:
        draw.text((int(dpi * 0.8), y), line, font=font, fill=0)
        y += int(size * 1.6)
    return img


def main():
    os.makedirs(os.path.join(BATCH, "antrag"), exist_ok=True)
    os.makedirs(GT, exist_ok=True)
    bescheid = render(DOCS["bescheid"][0], 300, SERIF).point(lambda v: 255 if v > 128 else 0).convert("1")
    bescheid.save(os.path.join(BATCH, "bescheid.png"), dpi=(300, 300), optimize=True)
    page1 = render(DOCS["antrag"][0], 300, SANS).point(lambda v: 255 if v > 128 else 0).convert("1")
    page1.save(os.path.join(BATCH, "antrag", "seite1.tif"), compression="group4", dpi=(300, 300))
    page2 = render(DOCS["antrag"][1], 200, SANS)
    page2.save(os.path.join(BATCH, "antrag", "seite2.jpg"), quality=85, dpi=(200, 200))
    akte = [render(p, 300, SERIF) for p in DOCS["akte"]]
    akte[0].save(os.path.join(BATCH, "akte.tiff"), compression="tiff_lzw", dpi=(300, 300),
                 save_all=True, append_images=akte[1:])
    with open(os.path.join(BATCH, "batch.toml"), "w", encoding="utf-8") as f:
        f.write('# Batch sheet of the demo batch (see README: "The batch sheet").\n'
                'id = "demo-2026-001"\n'
                'operator = "Erika Mustermann"\n'
                'scanned = "2026-11-20T09:30:00+01:00"\n'
                'organisation = "Stadt Weißenfels, Straßenverkehrsamt"\n'
                'scanner = "Demo-Scanner (synthetic pages from scripts/make-demo-batch.py)"\n'
                'procedure = "Verfahrensdokumentation Ersetzendes Scannen, Version 1.0"\n'
                'expected_documents = 3\n'
                'expected_pages = 5\n\n'
                '[metadata]\n'
                'file_number = "32.1-0815/2026"\n'
                'department = "Straßenverkehrsamt"\n')
    for doc, pages in DOCS.items():
        with open(os.path.join(GT, doc + ".txt"), "w", encoding="utf-8") as f:
            f.write("\n\f".join("\n".join(p) for p in pages) + "\n")


if __name__ == "__main__":
    main()
