#!/usr/bin/python3
"""Every measured number in README.md comes from a results file.

Finds each number with a unit of measurement (×, %, ms, s, MiB, GiB, pages/s) in README.md and
looks for the same number in benches/results/*.md. Numbers that are not measurements (defaults,
test thresholds, fixture sizes) are listed in scripts/readme-numbers-allowed.txt, one per line as
`NUMBER UNIT  # why`. Exits 1 and names every number found in neither place.

Usage: check-readme-numbers.py [README]   (default: the project's README.md)
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
readme_path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "README.md"
readme = readme_path.read_text()
results = "\n".join(p.read_text() for p in sorted((root / "benches/results").glob("*.md")))
allowed = set()
for line in (root / "scripts/readme-numbers-allowed.txt").read_text().splitlines():
    line = line.split("#", 1)[0].strip()
    if line:
        allowed.add(line)

pattern = re.compile(r"(?<![\w.,–-])(\d[\d,]*(?:\.\d+)?)(?:–(\d[\d,]*(?:\.\d+)?))? ?(×|%|ms\b|s\b|MiB\b|GiB\b|KiB\b|pages/s)")
missing = []
in_table_from_results = False
for number, line in enumerate(readme.splitlines(), 1):
    for m in pattern.finditer(line):
        unit = m.group(3)
        for value in filter(None, (m.group(1), m.group(2))):
            token = f"{value} {unit}"
            if token in allowed:
                continue
            # In a results file with its unit (bold or not), or as a table cell (the unit is in
            # the column's header).
            v = re.escape(value)
            unit_re = re.escape(unit)
            if re.search(rf"(?<![\d.,]){v}\**\s?\**{unit_re}", results) or re.search(
                rf"\|\s*{v}\s*\|", results
            ):
                continue
            missing.append(f"{readme_path.name}:{number}: {token}")
if missing:
    print("numbers in README.md found in no results file (benches/results/) and not allowed:")
    print("\n".join(missing))
    sys.exit(1)
print("README numbers: every measured number is in benches/results/ or allowed with a reason")
