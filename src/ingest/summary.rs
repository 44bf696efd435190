//! What the operator reads after a publication: pages, flags, documents without a PDF, the pages
//! flagged for review and the pages drawn for the spot check (compare those with the paper), and
//! where the time went — as the `Display` of the report and of its timings.

use std::fmt;

use super::{IngestReport, StageTimes};

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let removed = self.pages - self.pdf_pages;
        write!(f, "summary: {} pages scanned", self.pages)?;
        if removed > 0 {
            write!(f, ", {removed} blank removed")?;
        }
        if !self.complete {
            write!(f, ", batch INCOMPLETE against its sheet (see protocol.json)")?;
        }
        writeln!(f)?;
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|(f, n)| format!("{f} {n}")).collect();
            writeln!(f, "flags: {}", flags.join(", "))?;
        }
        for empty in &self.empty_documents {
            writeln!(f, "no PDF: {empty}")?;
        }
        pages_to_check(f, &self.review, &self.spot_check)
    }
}

/// Which pages a person must look at before the paper goes: flagged ones, and the spot check.
fn pages_to_check(f: &mut fmt::Formatter<'_>, review: &[String], spot_check: &[String]) -> fmt::Result {
    match review.len() {
        0 => writeln!(f, "review: no page is flagged for review")?,
        1 => writeln!(f, "review: 1 page needs a look before the paper goes:")?,
        n => writeln!(f, "review: {n} pages need a look before the paper goes:")?,
    }
    for page in review {
        writeln!(f, "  {page}")?;
    }
    match spot_check.len() {
        0 => {}
        1 => writeln!(
            f,
            "spot check: compare this page with the paper (report.html shows it):"
        )?,
        _ => writeln!(
            f,
            "spot check: compare these pages with the paper (report.html shows them):"
        )?,
    }
    for page in spot_check {
        writeln!(f, "  {page}")?;
    }
    Ok(())
}

impl fmt::Display for StageTimes {
    /// `timings: … s wall, … s CPU`, then one line per stage with its share.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: f64 = self.cpu_seconds.values().sum();
        writeln!(
            f,
            "timings: {:.2} s wall, {total:.2} s CPU ({:.1} % outside OCR)",
            self.wall_seconds,
            100.0 * self.non_ocr_share()
        )?;
        for (stage, seconds) in &self.cpu_seconds {
            let share = if total > 0.0 { 100.0 * seconds / total } else { 0.0 };
            writeln!(f, "  {stage:<8} {seconds:>8.3} s CPU  {share:>5.1} %")?;
        }
        Ok(())
    }
}
