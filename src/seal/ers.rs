//! RFC 4998 Evidence Records: each document's own proof of existence, in the form long-term
//! archives (TR-ESOR) keep and renew. An `EvidenceRecord` holds one ArchiveTimeStamp whose
//! reduced hash tree is the document's proof up to the batch's hash-tree root, and whose time
//! stamp is the RFC 3161 token the TSA gave for that root. With the PDF alone, any RFC 4998
//! implementation recomputes the root from the PDF's hash and checks the token stamps it.
//!
//! ```text
//! EvidenceRecord ::= SEQUENCE { version INTEGER { v1(1) }, digestAlgorithms SEQUENCE OF
//!   AlgorithmIdentifier, cryptoInfos [0] OPTIONAL, encryptionInfo [1] OPTIONAL,
//!   archiveTimeStampSequence SEQUENCE OF ArchiveTimeStampChain }
//! ArchiveTimeStampChain ::= SEQUENCE OF ArchiveTimeStamp
//! ArchiveTimeStamp ::= SEQUENCE { digestAlgorithm [0] OPTIONAL, attributes [1] OPTIONAL,
//!   reducedHashtree [2] SEQUENCE OF PartialHashtree OPTIONAL, timeStamp ContentInfo }
//! PartialHashtree ::= SEQUENCE OF OCTET STRING            -- IMPLICIT TAGS throughout
//! ```

use der::asn1::OctetString;
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;

use super::tree::{Proof, hex, unhex};

#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
struct EvidenceRecord {
    version: u8,
    digest_algorithms: Vec<AlgorithmIdentifierOwned>,
    archive_time_stamp_sequence: Vec<Vec<ArchiveTimeStamp>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
struct ArchiveTimeStamp {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    digest_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    reduced_hashtree: Option<Vec<Vec<OctetString>>>,
    time_stamp: Any,
}

/// The DER `EvidenceRecord` of one document: its proof and the time-stamp token (DER
/// `ContentInfo`) over the root the proof leads to.
pub fn evidence_record(proof: &Proof, token: &[u8]) -> Result<Vec<u8>, der::Error> {
    let algorithm = AlgorithmIdentifierOwned {
        oid: proof.algorithm.algorithm().oid(),
        parameters: None,
    };
    let mut partial = Vec::new();
    for level in &proof.levels {
        let hashes = level
            .iter()
            .map(|h| OctetString::new(unhex(h).unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        partial.push(hashes);
    }
    EvidenceRecord {
        version: 1,
        digest_algorithms: vec![algorithm.clone()],
        archive_time_stamp_sequence: vec![vec![ArchiveTimeStamp {
            digest_algorithm: Some(algorithm),
            reduced_hashtree: Some(partial),
            time_stamp: Any::from_der(token)?,
        }]],
    }
    .to_der()
}

/// Reads an evidence record back: its reduced hash tree as a [`Proof`] of `algorithm`, and its
/// time-stamp token (DER). Refused if it is not one ArchiveTimeStamp with a reduced hash tree.
pub fn read(ers: &[u8], algorithm: super::tree::TreeHash) -> Result<(Proof, Vec<u8>), String> {
    let record = EvidenceRecord::from_der(ers).map_err(|e| format!("not a DER EvidenceRecord: {e}"))?;
    if record.version != 1 {
        return Err(format!("version {} (RFC 4998 knows 1)", record.version));
    }
    let [chain] = record.archive_time_stamp_sequence.as_slice() else {
        return Err("not exactly one ArchiveTimeStampChain".into());
    };
    let [stamp] = chain.as_slice() else {
        return Err("not exactly one ArchiveTimeStamp".into());
    };
    let expected = algorithm.algorithm().oid();
    if record.digest_algorithms.iter().any(|a| a.oid != expected)
        || stamp.digest_algorithm.as_ref().is_some_and(|a| a.oid != expected)
    {
        return Err(format!("digest algorithm is not the hash tree's ({expected})"));
    }
    let levels = stamp
        .reduced_hashtree
        .as_ref()
        .ok_or("no reduced hash tree")?
        .iter()
        .map(|level| level.iter().map(|h| hex(h.as_bytes())).collect())
        .collect();
    let token = stamp.time_stamp.to_der().map_err(|e| e.to_string())?;
    Ok((Proof { algorithm, levels }, token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::tree::{HashTree, TreeHash};

    #[test]
    fn a_record_reads_back_to_its_proof_and_token() {
        let leaves: Vec<Vec<u8>> = (0u8..5).map(|i| TreeHash::Sha256.digest(&[i])).collect();
        let tree = HashTree::build(TreeHash::Sha256, &leaves);
        // Any DER value stands in for the token here: a NULL.
        let token = [0x05, 0x00];
        for leaf in &leaves {
            let proof = tree.proof(leaf).unwrap();
            let ers = evidence_record(&proof, &token).unwrap();
            let (back, stamp) = read(&ers, TreeHash::Sha256).unwrap();
            assert_eq!(back, proof);
            assert_eq!(stamp, token);
            assert_eq!(back.root_from(leaf).as_deref(), Some(tree.root()));
        }
    }
}
