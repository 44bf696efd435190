//! The read stage: documents → files (each read and hashed once, before anything decodes it) →
//! page jobs, lazily and in batch order; and what a resumed run may take over from the journal
//! instead of making it again.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::{Job, Stage, Timings, Work};
use crate::batch::Batch;
use crate::decode::{self, InputError, SourceFile};
use crate::journal;
use crate::json::to_json;
use crate::protocol::{DocumentRecord, SourceRecord};
use crate::seal::Digests;

/// The reader: documents → files (read and hashed once) → page jobs, lazily, in batch order.
pub(super) struct Jobs<'a> {
    batch: &'a Batch,
    limits: &'a decode::InputLimits,
    reuse: &'a Reuse,
    timings: &'a Timings,
    doc: usize,
    part: usize,
    number: u32,
    seq: u64,
    sources: Vec<SourceRecord>,
    queue: VecDeque<Job>,
    /// The file read last, kept for the next document when a stack file is split over several.
    last: Option<(std::path::PathBuf, Arc<SourceFile>, u32)>,
}

impl<'a> Jobs<'a> {
    pub(super) fn new(
        batch: &'a Batch,
        limits: &'a decode::InputLimits,
        reuse: &'a Reuse,
        timings: &'a Timings,
    ) -> Self {
        Jobs {
            batch,
            limits,
            reuse,
            timings,
            doc: 0,
            part: 0,
            number: 0,
            seq: 0,
            sources: Vec::new(),
            queue: VecDeque::new(),
            last: None,
        }
    }

    fn push(&mut self, work: Work) {
        self.queue.push_back(Job {
            seq: self.seq,
            doc: self.doc,
            work,
        });
        self.seq += 1;
    }

    /// Queues the jobs of the document's next part (pages of a file), or its end.
    fn advance(&mut self) {
        let document = &self.batch.documents[self.doc];
        if self.part == 0
            && let Some(record) = self.reuse.finished(self.batch, document)
        {
            self.push(Work::Reuse(Box::new(record)));
            self.next_document();
            return;
        }
        let Some(part) = document.parts.get(self.part) else {
            let sources = std::mem::take(&mut self.sources);
            self.push(Work::End(sources));
            self.next_document();
            return;
        };
        let rel = self.batch.relative(&part.file);
        let read = match &self.last {
            Some((path, source, pages)) if *path == part.file => Ok((Arc::clone(source), *pages)),
            _ => self
                .timings
                .time(Stage::Read, || decode::read_source(&part.file, &rel, self.limits))
                .map(|(source, pages)| (Arc::new(source), pages)),
        };
        let (source, pages) = match read {
            Ok(read) => read,
            Err(message) => {
                self.push(Work::Failed(message));
                self.next_document();
                return;
            }
        };
        self.last = Some((part.file.clone(), Arc::clone(&source), pages));
        let whole = part.pages.start == 0 && part.pages.end >= pages;
        if !whole && part.pages.end > pages {
            self.push(Work::Failed(InputError::file(
                &rel,
                format!(
                    "has {pages} pages, but pages {}–{} were separated into this document: \
                     the file changed after the batch was read; run the batch again",
                    part.pages.start + 1,
                    part.pages.end
                ),
            )));
            self.next_document();
            return;
        }
        let range = part.pages.start..part.pages.end.min(pages);
        self.sources.push(SourceRecord {
            path: rel,
            format: format!("{:?}", source.format).to_lowercase(),
            pages: range.len() as u32,
            first_page: (!whole).then_some(range.start + 1),
            digests: source.digests.clone(),
        });
        for index in range {
            self.number += 1;
            let number = self.number;
            let flags = document.flags.get(&number).cloned().unwrap_or_default();
            self.push(Work::Page {
                source: Arc::clone(&source),
                index,
                number,
                flags,
            });
        }
        self.part += 1;
    }

    fn next_document(&mut self) {
        self.doc += 1;
        self.part = 0;
        self.number = 0;
        self.sources.clear();
    }
}

impl Iterator for Jobs<'_> {
    type Item = Job;

    fn next(&mut self) -> Option<Job> {
        while self.queue.is_empty() && self.doc < self.batch.documents.len() {
            self.advance();
        }
        self.queue.pop_front()
    }
}

/// The journal of a resumed staging folder, and what a document must match to be reused.
pub(super) struct Reuse {
    pub(super) journal: HashMap<String, journal::Entry>,
    pub(super) dir: std::path::PathBuf,
    pub(super) context: String,
}

impl Reuse {
    /// The record of `document` if it is finished in the staging folder from exactly this input
    /// and context, with its PDF and record unchanged since they were journaled.
    fn finished(&self, batch: &Batch, document: &crate::batch::DocumentSource) -> Option<DocumentRecord> {
        let entry = self.journal.get(&document.id)?;
        if entry.context != self.context {
            return None;
        }
        let mut sources = Vec::new();
        for file in document.files() {
            sources.push((batch.relative(file), Digests::of_file(file).ok()?.sha256));
        }
        if sources != entry.sources {
            return None;
        }
        let pdf = Digests::of_file(&self.dir.join(crate::layout::document_pdf(&document.id))).ok()?;
        let bytes = std::fs::read(self.dir.join(crate::layout::document_record(&document.id))).ok()?;
        let mut record: DocumentRecord = serde_json::from_slice(&bytes).ok()?;
        // A crash during sealing may have left the proof in; it is made anew.
        record.proof = None;
        let unchanged = pdf.sha256 == entry.pdf_sha256
            && record.pdf_digests == pdf
            && crate::seal::hash::sha256_hex(&to_json(&record)) == entry.record_sha256;
        unchanged.then_some(record)
    }
}

/// The sources read page by page from disk (TIFF) whose bytes are no longer those hashed when
/// they were opened: their pages may not be the pages the recorded digest stands for.
pub(super) fn changed_since_read<'a>(
    files: impl IntoIterator<Item = &'a std::path::PathBuf>,
    sources: &[SourceRecord],
) -> Vec<InputError> {
    files
        .into_iter()
        .zip(sources)
        .filter(|(_, source)| source.format == "tiff")
        .filter(|(file, source)| Digests::of_file(file).map_or(true, |d| d != source.digests))
        .map(|(_, source)| {
            InputError::file(
                &source.path,
                "the file changed while it was being read (its SHA-256 is no longer the one \
                 recorded); let nothing write into the batch while it is processed, then run again",
            )
        })
        .collect()
}
