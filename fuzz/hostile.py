#!/usr/bin/env python3
"""Writes hand-made hostile inputs into fuzz/regressions/TARGET/ beside those the fuzzers found:
the shapes a crafted scan, sheet, profile, journal or published batch takes to crash, hang or
exhaust a reader (loops, lengths past the end, sizes far above the limits, deep nesting, control
characters). The normal suite replays them all (tests/e2e/fuzzed.rs). Run from the repository root:
    /usr/bin/python3 fuzz/hostile.py
"""
import json
import os
import struct
import zlib

OUT = "fuzz/regressions"


def put(target, name, data):
    os.makedirs(f"{OUT}/{target}", exist_ok=True)
    with open(f"{OUT}/{target}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def tiff(entries, next_ifd=0, extra=b""):
    """Little-endian TIFF: one IFD at offset 8 with (tag, type, count, value) entries."""
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in sorted(entries):
        ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", next_ifd)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + extra


def bilevel(width, height, strip_offset, strip_bytes, compression=1, rows=None):
    return [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 1), (259, 3, 1, compression),
        (262, 3, 1, 0), (273, 4, 1, strip_offset), (277, 3, 1, 1),
        (278, 4, 1, rows if rows is not None else height), (279, 4, 1, strip_bytes),
    ]


put("tiff", "ifd-points-to-itself.tif", tiff(bilevel(8, 8, 8, 8), next_ifd=8))
put("tiff", "two-ifds-point-to-each-other.tif",
    tiff(bilevel(8, 8, 8, 8), next_ifd=8) [:-4] + struct.pack("<I", 8))
put("tiff", "four-billion-pixels-claimed.tif", tiff(bilevel(65536, 65536, 8, 16)))
put("tiff", "strip-past-the-end.tif", tiff(bilevel(64, 64, 1 << 30, 1 << 20)))
put("tiff", "g4-strip-of-noise.tif", tiff(bilevel(1728, 2200, 200, 64, compression=4), extra=bytes(range(256)) * 2))
put("tiff", "rows-per-strip-zero.tif", tiff(bilevel(64, 64, 200, 512, rows=0), extra=b"\xff" * 600))
put("tiff", "ifd-entry-count-past-the-end.tif", b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 20)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG = b"\x89PNG\r\n\x1a\n"
put("png", "ihdr-claims-100000-squared.png",
    PNG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
    + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + png_chunk(b"IEND", b""))
put("png", "idat-inflates-far-beyond-the-image.png",
    PNG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
    + png_chunk(b"IDAT", zlib.compress(b"\x00" * (8 << 20), 9)) + png_chunk(b"IEND", b""))
put("png", "chunk-length-past-the-end.png",
    PNG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))[:8] + b"\x7f\xff\xff\xff")
put("png", "zero-width.png",
    PNG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 16, 1, 0, 0, 0, 0))
    + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 65535, 65535, 1) + b"\x01\x11\x00"
put("jpeg", "sof-claims-65535-squared.jpg", SOI + sof + EOI)
put("jpeg", "segment-length-past-the-end.jpg", SOI + b"\xff\xe0\xff\xff" + b"JFIF\x00")
put("jpeg", "scan-without-tables.jpg",
    SOI + b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 16, 16, 1) + b"\x01\x11\x00"
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x55" * 64 + EOI)


def pdf(objects, root=1):
    out = b"%PDF-1.7\n"
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for o in offsets:
        out += f"{o:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


put("pdf", "pages-tree-is-its-own-kid.pdf",
    pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]))
put("pdf", "image-claims-100000-squared.pdf", pdf([
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
    b"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length 8 >>\nstream\nxxxxxxxx\nendstream",
    b"<< /Length 31 >>\nstream\nq 612 0 0 792 0 0 cm /Im0 Do Q\nendstream",
]))
put("pdf", "stream-length-past-the-end.pdf", pdf([
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    b"<< /Length 999999999 >>\nstream\nq Q\nendstream",
]))
put("pdf", "count-of-a-billion-pages.pdf",
    pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 1000000000 >>"]))

put("batch_sheet", "operator-with-right-to-left-override.toml", 'id = "akte"\noperator = "Erika \u202eMustermann"\n')
put("batch_sheet", "nested-20000-deep.toml", "metadata = " + "[" * 20000 + "]" * 20000 + "\n")
put("batch_sheet", "not-utf8.toml", b'id = "\xff\xfe"\n')
put("batch_sheet", "counts-out-of-range.toml", "expected_pages = -1\nexpected_documents = 99999999999999999999\nseparation_pages = 0\n")

put("profile", "nested-20000-deep.toml", 'id = "x"\nversion = "1"\nx = ' + "[" * 20000 + "]" * 20000 + "\n")
put("profile", "every-number-out-of-range.toml",
    'id = "x"\nversion = "1"\n[input]\nmax_megapixels = -1e309\nmax_pages = -5\n[quality]\nmin_dpi = 1e400\n'
    '[separation]\npages = 0\nbarcode_pattern = "(((((((((((((((((((((((((((((((((a*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)*"\n')
put("profile", "key-is-a-pkcs11-uri-with-a-pin.toml", 'id = "x"\nversion = "1"\n[seal]\nkey = "pkcs11:token=t?pin-value=1234"\n')

entry = {"document": "akte", "context": "c", "sources": [["a.tif", "00"]], "pdf_sha256": "0", "record_sha256": "1"}
put("journal", "torn-last-line.jsonl", json.dumps(entry) + "\n" + json.dumps(entry)[:20])
put("journal", "one-line-of-256-kib.jsonl", '{"document":"' + "a" * (256 << 10) + '"}\n')
put("journal", "nested-20000-deep.jsonl", "[" * 20000 + "]" * 20000 + "\n")

put("verify", "manifest-names-a-file-outside-the-batch.bin", b"\x00" + json.dumps({
    "format": "scanwerk/2", "batch": "x", "algorithm": "ecdsa-p256-sha256", "public_key": "",
    "files": [{"path": "../../../../etc/passwd", "sha256": "0" * 64, "sha512": "0" * 128, "bytes": 1}]}).encode())
put("verify", "hashtree-nested-20000-deep.bin", b"\x01" + b"[" * 20000 + b"]" * 20000)
put("verify", "record-with-a-billion-pages.bin", b"\x03" + json.dumps({"pages": 10**9, "page_count": 10**9}).encode())
put("verify", "bag-manifest-line-without-a-path.bin", b"\x04" + b"0" * 64 + b"\n" + b"abc  \n" * 3)
put("verify", "bag-info-oxum-overflows.bin", b"\x05Payload-Oxum: 99999999999999999999999.99999999999999999999\n")
