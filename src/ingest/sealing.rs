//! Sealing a staged batch: the protocol and QA report written, the hash tree over every PDF and
//! the protocol signed and time-stamped, each document given its proof and (with a time stamp) its
//! RFC 4998 evidence record, every file listed in the signed manifest — then the input checked
//! once more and the batch published.

use std::path::{Path, PathBuf};

use crate::archive::{ArchiveError, Staging};
use crate::config::Config;
use crate::json::to_json;
use crate::protocol::{self, Protocol};
use crate::seal::{self, Manifest, ManifestEntry};
use crate::{layout, profile, report};

use super::{IngestError, ensure_unchanged};

/// Writes the protocol, the QA report, the hash tree with its signature and time stamp and the
/// manifest into `staging`, checks the input is unchanged, and publishes the batch.
pub fn seal_and_publish(
    staging: Staging,
    config: &Config,
    protocol: &Protocol,
) -> Result<(PathBuf, Manifest), IngestError> {
    staging.write_file(layout::PROTOCOL, &to_json(protocol))?;
    write_report(&staging, protocol)?;
    seal_tree(&staging, config, protocol)?;
    let manifest = seal_staging(&staging, config, protocol)?;
    if config.profile.output.bagit {
        bag(&staging, config, protocol)?;
    }
    ensure_unchanged(&config.batch)?;
    Ok((staging.publish()?, manifest))
}

/// Makes the sealed staging folder a BagIt bag: the batch into `data/`, the tag files beside it.
fn bag(staging: &Staging, config: &Config, protocol: &Protocol) -> Result<(), IngestError> {
    let journal = staging.dir().join(crate::journal::FILE);
    let _ = std::fs::remove_file(&journal);
    let info = crate::handoff::bag::BagInfo {
        source_organization: config
            .batch
            .sheet
            .organisation
            .clone()
            .unwrap_or_else(|| "unknown".into()),
        bagging_date: protocol.transfer_note.times.sealed.chars().take(10).collect(),
        external_identifier: config.batch.id.clone(),
    };
    crate::handoff::bag::make(staging.dir(), &info).map_err(staging.write_err("bagit.txt"))?;
    Ok(())
}

/// Builds the hash tree over every PDF and the protocol, signs its root file, and gives each
/// document record its proof.
fn seal_tree(staging: &Staging, config: &Config, protocol: &Protocol) -> Result<(), IngestError> {
    let algorithm = config.profile.tree_hash;
    let mut leaves = Vec::new();
    for rel in protocol
        .documents
        .iter()
        .map(|d| d.pdf.clone())
        .chain([layout::PROTOCOL.to_string()])
    {
        let path = staging.dir().join(&rel);
        let leaf = algorithm
            .digest_file(&path)
            .map_err(|source| ArchiveError::Write { path, source })?;
        leaves.push((rel, leaf));
    }
    let hashes: std::collections::HashMap<String, Vec<u8>> = leaves.iter().cloned().collect();
    let (tree, file) = seal::tree::TreeFile::build(&config.batch.id, algorithm, leaves);
    let bytes = file.to_bytes();
    staging.write_file(layout::TREE, &bytes)?;
    staging.write_file(layout::TREE_SIGNATURE, &config.key.sign(&bytes)?)?;
    let token = stamp_root(staging, config, algorithm.algorithm(), tree.root())?;
    for doc in &protocol.documents {
        let rel = layout::document_record(&doc.id);
        let path = staging.dir().join(&rel);
        let read = std::fs::read(&path).map_err(|source| ArchiveError::Write {
            path: path.clone(),
            source,
        })?;
        let mut record: protocol::DocumentRecord =
            serde_json::from_slice(&read).expect("the record scanwerk just wrote parses");
        record.proof = tree.proof(&hashes[&doc.pdf]);
        staging.write_file(&rel, &to_json(&record))?;
        // With the root's time-stamp token: the document's RFC 4998 evidence record.
        if let (Some(token), Some(proof)) = (&token, &record.proof) {
            let ers =
                seal::ers::evidence_record(proof, token).map_err(seal::timestamp::TimestampError::from)?;
            staging.write_file(&layout::document_ers(&doc.id), &ers)?;
        }
    }
    Ok(())
}

/// Time-stamps the hash-tree root as the profile says: the query file always, the checked reply
/// when the service is asked now; returns the reply's token then.
fn stamp_root(
    staging: &Staging,
    config: &Config,
    algorithm: seal::hash::HashAlgorithm,
    root: &[u8],
) -> Result<Option<Vec<u8>>, IngestError> {
    use profile::TimestampPolicy;
    use seal::timestamp;
    if config.profile.timestamp == TimestampPolicy::Off {
        return Ok(None);
    }
    let query = timestamp::query(algorithm, root)?;
    staging.write_file(layout::TIMESTAMP_QUERY, &query)?;
    let TimestampPolicy::Online { url } = &config.profile.timestamp else {
        return Ok(None);
    };
    let reply = timestamp::request(url.as_str(), &query)?;
    timestamp::check_reply(&reply, algorithm, root, Some(&query), &[])?;
    staging.write_file(layout::TIMESTAMP_REPLY, &reply)?;
    Ok(Some(timestamp::token_of(&reply)?))
}

/// Writes `report.html` from the staged records and thumbnails, then drops the thumbnails.
fn write_report(staging: &Staging, protocol: &Protocol) -> Result<(), ArchiveError> {
    let mut file = staging.create_file(layout::REPORT)?;
    report::write(staging.dir(), protocol, &mut file).map_err(staging.write_err(layout::REPORT))?;
    staging.close_file(layout::REPORT, file)?;
    let thumbnails = staging.dir().join(layout::THUMBNAILS);
    match std::fs::remove_dir_all(&thumbnails) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(staging.write_err(layout::THUMBNAILS)(e)),
        _ => Ok(()),
    }
}

/// Lists every staged file in the manifest, writes it and its signature.
fn seal_staging(staging: &Staging, config: &Config, protocol: &Protocol) -> Result<Manifest, IngestError> {
    let mut files = Vec::new();
    for doc in &protocol.documents {
        for rel in [doc.pdf.clone(), layout::document_record(&doc.id)] {
            files.push(entry(staging.dir(), &rel)?);
        }
        for rel in [
            layout::document_alto(&doc.id),
            layout::document_hocr(&doc.id),
            layout::document_ers(&doc.id),
        ] {
            if staging.dir().join(&rel).exists() {
                files.push(entry(staging.dir(), &rel)?);
            }
        }
    }
    for (image, _) in protocol.separators.iter().flat_map(|s| s.images()) {
        files.push(entry(staging.dir(), image)?);
    }
    for rescan in protocol.review.iter().flat_map(|r| &r.rescans) {
        files.push(entry(staging.dir(), &rescan.replaced.pdf)?);
    }
    for rel in [
        layout::PROTOCOL,
        layout::REPORT,
        layout::TREE,
        layout::TREE_SIGNATURE,
    ] {
        files.push(entry(staging.dir(), rel)?);
    }
    for rel in [layout::TIMESTAMP_QUERY, layout::TIMESTAMP_REPLY] {
        if staging.dir().join(rel).exists() {
            files.push(entry(staging.dir(), rel)?);
        }
    }
    let public = config.key.public();
    let manifest = Manifest::new(&config.batch.id, config.profile.signature.name(), &public, files);
    let bytes = manifest.to_bytes();
    staging.write_file(layout::MANIFEST, &bytes)?;
    staging.write_file(layout::MANIFEST_SIGNATURE, &config.key.sign(&bytes)?)?;
    Ok(manifest)
}

/// Hashes a staged file from disk, so the manifest states what is really there.
fn entry(dir: &Path, rel: &str) -> Result<ManifestEntry, ArchiveError> {
    let path = dir.join(rel);
    let digests = seal::Digests::of_file(&path).map_err(|source| ArchiveError::Write { path, source })?;
    Ok(ManifestEntry {
        path: rel.into(),
        digests,
    })
}
