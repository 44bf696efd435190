//! End-to-end tests: the `scanwerk` binary on the demo batch and on real scans, checked with
//! independent tools (qpdf, pdftotext, pdfimages, pdffonts, exiftool, fontTools, openssl) wherever they can prove something.

mod audit;
mod bag;
mod confidential;
mod day_one;
mod evidence;
mod fulltext;
mod fuzzed;
mod harness;
mod ingest;
mod input;
mod keys;
mod operator;
mod pdf_input;
mod pdfa;
mod prepare;
mod queue;
mod report;
mod review;
mod separation;
mod token;
mod tsa;
mod unattended;
mod verify;
