//! What archive systems take in their own formats: the documents' full text as ALTO and hOCR.
//! (BagIt, receipts and the destruction release belong here as they come.)

pub mod bag;
pub mod fulltext;
