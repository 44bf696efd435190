//! The review a sealed batch claims: every page its mode required was checked, each accepted on
//! its last version by as many different people as required, and a level from "hoch" on was
//! reviewed at all (TR-RESISCAN IN.H.7, IN.SH.5).

use crate::protocol::Protocol;
use crate::protocol::review::ReviewRecord;

/// Problems with the protocol's review record, and the summary line for a sound one.
pub fn check(protocol: &Protocol) -> (Vec<String>, Option<String>) {
    let level = protocol.transfer_note.sealing.protection.as_str();
    let Some(review) = &protocol.review else {
        return match level {
            "hoch" | "sehr-hoch" => (
                vec![format!(
                    "protection level {level:?} requires pages checked by a person before sealing; the \
                     protocol records no review"
                )],
                None,
            ),
            _ => (Vec::new(), None),
        };
    };
    let mut problems: Vec<String> = review
        .open_pages()
        .into_iter()
        .map(|(d, p, state)| format!("review: {d} page {p} is {state}, yet the batch was sealed"))
        .collect();
    let required: Vec<(String, u32)> = required_pages(protocol, review);
    for (document, page) in required {
        if !review
            .pages
            .iter()
            .any(|p| p.document == document && p.page == page)
        {
            problems.push(format!(
                "review mode {} requires {document} page {page} to be checked; the review does not list it",
                review.mode
            ));
        }
    }
    let (least, least_reviewers) = match level {
        "hoch" => ("flagged+sample", 1),
        "sehr-hoch" => ("all", 2),
        _ => ("none", 1),
    };
    let rank = |m: &str| {
        ["none", "flagged", "flagged+sample", "all"]
            .iter()
            .position(|x| *x == m)
    };
    if rank(&review.mode) < rank(least) || review.reviewers_required < least_reviewers {
        problems.push(format!(
            "protection level {level:?} requires review mode {least:?} with {least_reviewers} reviewer(s); the \
             review was {:?} with {}",
            review.mode, review.reviewers_required
        ));
    }
    let summary = format!(
        "{}: {} page(s) accepted by {} ({} per page), {} rescanned",
        review.mode,
        review.pages.len(),
        review.reviewers().join(", "),
        review.reviewers_required,
        review.rescans.len()
    );
    (problems, Some(summary))
}

/// The pages the review's mode sends to a person, from the protocol's own records.
fn required_pages(protocol: &Protocol, review: &ReviewRecord) -> Vec<(String, u32)> {
    let mut pages = Vec::new();
    for doc in &protocol.documents {
        if review.mode == "all" {
            pages.extend((1..=doc.scanned_pages as u32).map(|n| (doc.id.clone(), n)));
            continue;
        }
        pages.extend(
            doc.flagged_pages
                .iter()
                .filter(|p| p.needs_review)
                .map(|p| (doc.id.clone(), p.number)),
        );
        if review.mode == "flagged+sample" {
            pages.extend(
                protocol
                    .qa_sample
                    .iter()
                    .flat_map(|s| &s.pages)
                    .filter(|s| s.document == doc.id)
                    .map(|s| (doc.id.clone(), s.page)),
            );
        }
    }
    pages
}
