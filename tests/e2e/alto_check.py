#!/usr/bin/env python3
"""An ALTO file against poppler's reading of its PDF, independently of scanwerk.

    alto_check.py DOC.alto.xml DOC.pdf

Parses the ALTO file (well-formedness), checks its structure (ALTO v4 namespace, inch1200 units,
Layout/Page/PrintSpace/TextBlock/TextLine/String nesting, IDs unique), and compares every page
with `pdftotext -bbox`: the same words (poppler orders them its own way), each ALTO box within 2 pt
of poppler's box of that word, and the page size. Prints JSON: {"pages", "words", "worst_pt", "problems"}.
No ALTO schema ships in a registry package, so the schema itself is not loaded.
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

A = "{http://www.loc.gov/standards/alto/ns-v4#}"
X = "{http://www.w3.org/1999/xhtml}"
SCALE = 72.0 / 1200.0

alto_path, pdf = sys.argv[1], sys.argv[2]
root = ET.parse(alto_path).getroot()
problems = []
if root.tag != A + "alto":
    problems.append(f"root element {root.tag} is not ALTO v4's alto")
unit = root.find(f"{A}Description/{A}MeasurementUnit")
if unit is None or unit.text != "inch1200":
    problems.append("MeasurementUnit is not inch1200")
ids = [e.get("ID") for e in root.iter() if e.get("ID")]
if len(ids) != len(set(ids)):
    problems.append("IDs are not unique")
for string in root.iter(A + "String"):
    for key in ("CONTENT", "HPOS", "VPOS", "WIDTH", "HEIGHT", "WC"):
        if string.get(key) is None:
            problems.append(f"String {string.get('ID')} lacks {key}")
for line in root.iter(A + "TextLine"):
    if any(child.tag not in (A + "String", A + "SP") for child in line):
        problems.append(f"TextLine {line.get('ID')} holds something else than String and SP")

html = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True, text=True, check=True).stdout
poppler = ET.fromstring(html)
ppages = poppler.findall(f".//{X}page")
apages = root.findall(f"{A}Layout/{A}Page")
if [p.find(f"{A}PrintSpace") is None for p in apages].count(True):
    problems.append("a Page without PrintSpace")
if len(ppages) != len(apages):
    problems.append(f"{len(apages)} ALTO pages, {len(ppages)} PDF pages")
words = 0
split = 0
worst = 0.0
for n, (ap, pp) in enumerate(zip(apages, ppages), start=1):
    size = (float(ap.get("WIDTH")) * SCALE, float(ap.get("HEIGHT")) * SCALE)
    psize = (float(pp.get("width")), float(pp.get("height")))
    # pdftotext -bbox gives the media box's width and height unturned, words on the turned page.
    if max(abs(a - b) for a, b in zip(sorted(size), sorted(psize))) > 1:
        problems.append(f"page {n}: ALTO size {size}, PDF page {psize}")
    mine = [
        (s.get("CONTENT"), [float(s.get(k)) * SCALE for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")])
        for s in ap.iter(A + "String")
    ]
    theirs = [
        (w.text, [float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")]) for w in pp.iter(X + "word")
    ]
    # Poppler orders words its own way, and now and then splits a widely spaced word in pieces:
    # each ALTO word is matched with the nearest unmatched poppler word of the same text, else with
    # the poppler words inside its box whose texts, in reading direction, make it up.
    left = list(theirs)
    unmatched = []
    for text, (h, v, w, hh) in mine:
        box = (h, v, h + w, v + hh)
        candidates = [(max(abs(a - b) for a, b in zip(box, pbox)), i) for i, (t, pbox) in enumerate(left) if t == text]
        if not candidates:
            unmatched.append((text, box))
            continue
        off, i = min(candidates)
        left.pop(i)
        worst = max(worst, off)
        if off > 2.0:
            problems.append(f"page {n}: {text!r} ALTO box {box} is {off:.2f} pt from poppler's nearest")
    # Unmatched ALTO words whose boxes overlap form one group (tesseract now and then reads two
    # words into the same spot, and no reader can tell their letters apart there): the poppler
    # words inside the group's box must hold the same letters, in whatever order, or, where the
    # words overlap, fewer of them (poppler drops a glyph drawn over the same glyph, as it does for
    # fake bold).
    groups = []
    for text, box in unmatched:
        for g in groups:
            gb = g["box"]
            if box[0] < gb[2] and gb[0] < box[2] and box[1] < gb[3] and gb[1] < box[3]:
                g["texts"].append(text)
                g["box"] = (min(gb[0], box[0]), min(gb[1], box[1]), max(gb[2], box[2]), max(gb[3], box[3]))
                break
        else:
            groups.append({"texts": [text], "box": box})
    for g in groups:
        box = g["box"]
        inside = [
            (i, t, pbox) for i, (t, pbox) in enumerate(left)
            if pbox[0] >= box[0] - 2 and pbox[1] >= box[1] - 2 and pbox[2] <= box[2] + 2 and pbox[3] <= box[3] + 2
        ]
        from collections import Counter
        read, placed = Counter("".join(t for _, t, _ in inside)), Counter("".join(g["texts"]))
        if not inside or read - placed or (len(g["texts"]) == 1 and read != placed):
            problems.append(f"page {n}: ALTO words {g['texts']} at {box} are not in the PDF text poppler reads")
            continue
        union = (min(p[0] for _, _, p in inside), min(p[1] for _, _, p in inside),
                 max(p[2] for _, _, p in inside), max(p[3] for _, _, p in inside))
        off = max(abs(a - b) for a, b in zip(box, union))
        worst = max(worst, off)
        if off > 2.0:
            problems.append(f"page {n}: ALTO words {g['texts']} span {box}, poppler's pieces {union}")
        split += len(g["texts"])
        for i in sorted((i for i, _, _ in inside), reverse=True):
            left.pop(i)
    if left:
        problems.append(f"page {n}: poppler reads words ALTO does not hold: {[t for t, _ in left][:5]}")
    words += len(mine)
print(json.dumps({"pages": len(apages), "words": words, "read_apart_by_poppler": split, "worst_pt": round(worst, 3),
                  "problems": problems[:20]}))
