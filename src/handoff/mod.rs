//! What archive systems take in their own formats and what they give back: the batch as a BagIt
//! bag, the documents' full text as ALTO and hOCR, the archive's receipt for a batch, and the
//! destruction release for the paper of received batches.

pub mod bag;
pub mod fulltext;
pub mod receipt;
pub mod release;
