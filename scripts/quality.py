"""OCR quality on the real scans: character error rate and word recall against ground truth, for
scanwerk (text layer read back with `pdftotext -raw`, i.e. in the order the text layer holds it,
which is tesseract's reading order) and for the tesseract CLI on the same images. (pdftotext's
default mode re-sorts words by position and interleaves the columns of multi-column pages, which
CER, unlike word recall, punishes heavily.)

usage: quality.py REALSCANS SCANWERK_DOCUMENTS_DIR CLI_TEXT_DIR > table.md

Both texts are compared after the same normalisation: Unicode NFKC, long s → s, combining e over
a/o/u → umlaut, words hyphenated across a line end joined, whitespace collapsed. CER is the
Levenshtein distance over characters divided by the ground truth's length (may exceed 1 when
the OCR produces much extra text); word recall is the share of ground-truth words (as a multiset)
found in the OCR text. Rows are the images whose manifest entry names a ground truth.
"""
import collections
import csv
import json
import os
import re
import subprocess
import sys
import unicodedata


def normalise(text):
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("ſ", "s")
    for vowel, umlaut in (("a", "ä"), ("o", "ö"), ("u", "ü"), ("A", "Ä"), ("O", "Ö"), ("U", "Ü")):
        text = text.replace(vowel + "\u0364", umlaut)
    text = text.replace("\f", "\n")
    text = re.sub(r"(\w)-\n\s*(\w)", r"\1\2", text)
    return " ".join(text.split())


def words(text):
    out = []
    for w in text.split():
        w = w.strip(".,;:!?()[]\"'„“”‚‘’«»")
        if w:
            out.append(w)
    return out


def recall(truth, text):
    found = collections.Counter(words(text))
    hits = 0
    for w in words(truth):
        if found[w] > 0:
            found[w] -= 1
            hits += 1
    return hits / max(len(words(truth)), 1)


def cer(truth, text):
    if not truth:
        return 0.0 if not text else 1.0
    previous = list(range(len(text) + 1))
    for i, a in enumerate(truth, 1):
        current = [i] + [0] * len(text)
        for j, b in enumerate(text, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
        previous = current
    return previous[-1] / len(truth)


def main():
    realscans, documents, cli_dir = sys.argv[1:4]
    by_source = {}
    for name in os.listdir(documents):
        if name.endswith(".json"):
            record = json.load(open(os.path.join(documents, name)))
            by_source[record["sources"][0]["path"]] = record
    rows = []
    with open(os.path.join(realscans, "manifest.tsv"), newline="") as f:
        for entry in csv.DictReader(f, delimiter="\t"):
            truth_path = entry["ground_truth"].split(" ")[0]
            if not truth_path or not truth_path.endswith(".txt"):
                continue
            image = entry["file"]
            name = image.replace("/", "__")
            record = by_source.get(name)
            cli_text = os.path.join(cli_dir, name + ".txt")
            if record is None or not os.path.exists(cli_text):
                continue
            truth = normalise(open(os.path.join(realscans, truth_path), encoding="utf-8").read())
            pdf = os.path.join(documents, os.path.basename(record["pdf"]))
            ours = normalise(subprocess.run(["pdftotext", "-raw", pdf, "-"], capture_output=True, text=True).stdout)
            theirs = normalise(open(cli_text, encoding="utf-8").read())
            page = record["pages"][0]
            notes = []
            if page.get("orientation") and page["orientation"]["rotate"]:
                notes.append(f"turned {page['orientation']['rotate']}°")
            if page.get("skew") and page["skew"]["corrected"]:
                notes.append(f"deskewed {page['skew']['degrees']}°")
            if page["blank"]["blank"]:
                notes.append("blank")
            rows.append((image, cer(truth, ours), cer(truth, theirs), recall(truth, ours),
                         recall(truth, theirs), ", ".join(notes)))
    print("| image | CER scanwerk | CER tesseract CLI | word recall scanwerk | word recall CLI | preparation |")
    print("|---|---:|---:|---:|---:|---|")
    for image, c1, c2, r1, r2, notes in rows:
        print(f"| {image} | {c1:.3f} | {c2:.3f} | {r1:.3f} | {r2:.3f} | {notes} |")
    n = max(len(rows), 1)
    print(f"| **mean of {len(rows)}** | **{sum(r[1] for r in rows) / n:.3f}** | **{sum(r[2] for r in rows) / n:.3f}** "
          f"| **{sum(r[3] for r in rows) / n:.3f}** | **{sum(r[4] for r in rows) / n:.3f}** | |")


if __name__ == "__main__":
    main()
