#!/usr/bin/python3
"""An independent check of a published batch's hash tree (RFC 4998 style), written from the rule
and not from scanwerk's code: every leaf's hash recomputed from its file with hashlib; the root
rebuilt from the leaves (sorted in binary ascending order, nodes made two at a time, each level
above pairing its nodes in the order they were made, a node's hash the hash of its children's
hashes sorted and concatenated, a lone node hashed by itself); every
document record's proof reduced from the PDF's own hash up to that root (RFC 4998, 4.3).

    hashtree.py BATCH_DIR        prints "ok <root> <leaves> <proofs>", or the problem, exit 1
"""
import glob
import hashlib
import json
import os
import sys


def main():
    batch = sys.argv[1]
    tree = json.load(open(os.path.join(batch, "hashtree.json")))
    algorithm = {"sha-256": "sha256", "sha-512": "sha512"}[tree["algorithm"]]

    def h(data):
        return hashlib.new(algorithm, data).digest()

    def file_hash(rel):
        with open(os.path.join(batch, rel), "rb") as f:
            return h(f.read())

    leaves = []
    for leaf in tree["leaves"]:
        actual = file_hash(leaf["path"])
        if actual.hex() != leaf["hash"]:
            sys.exit(f"leaf {leaf['path']}: file hashes to {actual.hex()}, tree says {leaf['hash']}")
        leaves.append(actual)
    if not any(l["path"] == "protocol.json" for l in tree["leaves"]):
        sys.exit("protocol.json is not a leaf")
    pdfs = sorted(os.path.relpath(p, batch) for p in glob.glob(os.path.join(batch, "documents", "*.pdf")))
    if sorted(l["path"] for l in tree["leaves"] if l["path"].endswith(".pdf")) != pdfs:
        sys.exit("the leaves are not exactly the published PDFs")

    level = sorted(leaves)
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            pair = sorted(level[i:i + 2])
            nxt.append(h(b"".join(pair)))
        level = nxt  # each level above pairs its nodes in the order they were made
    root = level[0]
    if root.hex() != tree["root"]:
        sys.exit(f"root rebuilt from the leaves is {root.hex()}, hashtree.json says {tree['root']}")

    proofs = 0
    for record_path in sorted(glob.glob(os.path.join(batch, "documents", "*.json"))):
        record = json.load(open(record_path))
        proof = record.get("proof")
        if proof is None:
            sys.exit(f"{record_path}: no proof")
        current = file_hash(record["pdf"] if "/" in record["pdf"] else os.path.join("documents", record["pdf"]))
        levels = [[bytes.fromhex(x) for x in lvl] for lvl in proof["levels"]]
        if current not in levels[0]:
            sys.exit(f"{record_path}: the PDF's hash is not in the proof's first list")
        current = h(b"".join(sorted(levels[0])))
        for lvl in levels[1:]:
            current = h(b"".join(sorted(lvl + [current])))
        if current != root:
            sys.exit(f"{record_path}: the proof reduces to {current.hex()}, not the root")
        proofs += 1
    print(f"ok {root.hex()} {len(leaves)} {proofs}")


if __name__ == "__main__":
    main()
