//! End-to-end tests: the `scanwerk` binary on the demo batch and on real scans, checked with
//! independent tools (qpdf, pdftotext, pdfimages, openssl) wherever they can prove something.

mod harness;
mod ingest;
mod input;
mod verify;
