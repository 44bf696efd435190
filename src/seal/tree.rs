//! The batch hash tree in the manner of RFC 4998 (Evidence Record Syntax), and reduced hash trees
//! (proofs) that let one document be checked on its own against the signed root.
//!
//! Leaves are the hashes of the batch's data objects (each PDF and the protocol). Nodes are made
//! two at a time from the leaves in ascending order, and each level above pairs its nodes in the
//! order they were made; a node's hash is the hash of its children's
//! hashes, sorted in binary ascending order and concatenated (RFC 4998, 4.2); a node left alone at
//! the end of a level is hashed by itself. A document's proof is the list of partial hash trees
//! from its leaf up: the first holds the leaf and its sibling, each further one the sibling of the
//! node computed so far (RFC 4998, 4.3 verification: the computed hash joins the next list).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

/// The hash algorithm of a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreeHash {
    #[serde(rename = "sha-256")]
    Sha256,
    #[serde(rename = "sha-512")]
    Sha512,
}

impl TreeHash {
    pub fn algorithm(self) -> super::hash::HashAlgorithm {
        match self {
            TreeHash::Sha256 => super::hash::HashAlgorithm::Sha256,
            TreeHash::Sha512 => super::hash::HashAlgorithm::Sha512,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            TreeHash::Sha256 => Sha256::digest(data).to_vec(),
            TreeHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The hash of a file, read in pieces (a PDF of a thousand pages is never held whole).
    pub fn digest_file(self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let mut hash = self.algorithm().hasher();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match file.read(&mut buf)? {
                0 => return Ok(hash.finish()),
                n => hash.update(&buf[..n]),
            }
        }
    }

    /// The hash of a node over its children: sorted binary ascending, concatenated, hashed.
    fn node(self, children: &[Vec<u8>]) -> Vec<u8> {
        let mut sorted = children.to_vec();
        sorted.sort();
        self.digest(&sorted.concat())
    }
}

/// A complete tree: every level from the sorted leaves up to the root.
#[derive(Debug, Clone)]
pub struct HashTree {
    pub algorithm: TreeHash,
    levels: Vec<Vec<Vec<u8>>>,
}

/// A reduced hash tree: the partial hash trees from a leaf to the root, hex-encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proof {
    pub algorithm: TreeHash,
    /// `levels[0]` holds the leaf and its sibling; each further list the sibling(s) of the node
    /// computed from the list before. Empty lists stand for a node alone on its level.
    pub levels: Vec<Vec<String>>,
}

impl HashTree {
    /// Builds the tree over leaf hashes (at least one).
    pub fn build(algorithm: TreeHash, leaves: &[Vec<u8>]) -> HashTree {
        let mut level: Vec<Vec<u8>> = leaves.to_vec();
        level.sort();
        let mut levels = vec![level];
        while levels.last().expect("at least the leaves").len() > 1 {
            let next = levels
                .last()
                .expect("at least the leaves")
                .chunks(2)
                .map(|pair| algorithm.node(pair))
                .collect();
            levels.push(next);
        }
        if levels[0].len() == 1 {
            // A single leaf still gets a root over it, so a proof always has one list.
            let root = algorithm.node(&levels[0]);
            levels.push(vec![root]);
        }
        HashTree { algorithm, levels }
    }

    pub fn root(&self) -> &[u8] {
        &self.levels.last().expect("a root")[0]
    }

    /// The proof for a leaf, `None` if the tree has no such leaf.
    pub fn proof(&self, leaf: &[u8]) -> Option<Proof> {
        let mut index = self.levels[0].iter().position(|l| l == leaf)?;
        let mut levels = Vec::new();
        for (depth, level) in self.levels[..self.levels.len() - 1].iter().enumerate() {
            let start = index - index % 2;
            let group = &level[start..(start + 2).min(level.len())];
            let listed: Vec<String> = group
                .iter()
                .enumerate()
                .filter(|(i, _)| depth == 0 || start + i != index)
                .map(|(_, h)| hex(h))
                .collect();
            levels.push(listed);
            index /= 2;
        }
        Some(Proof {
            algorithm: self.algorithm,
            levels,
        })
    }
}

impl Proof {
    /// Follows the proof from `leaf` up and returns the root it leads to, or `None` if the leaf is
    /// not in the first list or a hash is not hex.
    pub fn root_from(&self, leaf: &[u8]) -> Option<Vec<u8>> {
        let first = self.levels.first()?;
        let mut group: Vec<Vec<u8>> = first.iter().map(|h| unhex(h)).collect::<Option<_>>()?;
        if !group.iter().any(|h| h == leaf) {
            return None;
        }
        let mut node = self.algorithm.node(&group);
        for level in &self.levels[1..] {
            group = level.iter().map(|h| unhex(h)).collect::<Option<_>>()?;
            group.push(node);
            node = self.algorithm.node(&group);
        }
        Some(node)
    }
}

/// `hashtree.json`: the batch's hash tree as published, signed as a whole in `hashtree.sig`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TreeFile {
    pub format: String,
    pub batch_id: String,
    pub algorithm: TreeHash,
    /// The root, hex.
    pub root: String,
    /// Every data object in the tree (each PDF and the protocol) with its hash, by path.
    pub leaves: Vec<TreeLeaf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeLeaf {
    pub path: String,
    pub hash: String,
}

impl TreeFile {
    /// The tree over `(path, data hash)` pairs, and the file describing it.
    pub fn build(
        batch_id: &str,
        algorithm: TreeHash,
        leaves: Vec<(String, Vec<u8>)>,
    ) -> (HashTree, TreeFile) {
        let tree = HashTree::build(
            algorithm,
            &leaves.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>(),
        );
        let mut listed: Vec<TreeLeaf> = leaves
            .into_iter()
            .map(|(path, hash)| TreeLeaf {
                path,
                hash: hex(&hash),
            })
            .collect();
        listed.sort_by(|a, b| a.path.cmp(&b.path));
        let file = TreeFile {
            format: crate::json::FORMAT.into(),
            batch_id: batch_id.into(),
            algorithm,
            root: hex(tree.root()),
            leaves: listed,
        };
        (tree, file)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        crate::json::to_json(self)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| TreeHash::Sha256.digest(format!("document {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn every_leaf_proves_the_root_and_nothing_else_does() {
        for n in 1..=9 {
            let leaves = leaves(n);
            for algorithm in [TreeHash::Sha256, TreeHash::Sha512] {
                let tree = HashTree::build(algorithm, &leaves);
                for leaf in &leaves {
                    let proof = tree.proof(leaf).unwrap();
                    assert_eq!(proof.root_from(leaf).as_deref(), Some(tree.root()), "n={n}");
                    // One changed bit in the leaf, or in any hash of the proof, breaks it.
                    let mut other = leaf.clone();
                    other[0] ^= 1;
                    assert_eq!(proof.root_from(&other), None);
                    for (l, level) in proof.levels.iter().enumerate() {
                        for h in 0..level.len() {
                            let mut bad = proof.clone();
                            let mut bytes = unhex(&bad.levels[l][h]).unwrap();
                            bytes[3] ^= 0x10;
                            bad.levels[l][h] = hex(&bytes);
                            assert_ne!(bad.root_from(leaf).as_deref(), Some(tree.root()), "n={n} l={l}");
                        }
                    }
                }
                assert!(tree.proof(&[0u8; 32]).is_none());
            }
        }
    }

    #[test]
    fn nodes_hash_sorted_concatenations() {
        // RFC 4998, 4.2: the order of the children does not matter.
        let (a, b) = (vec![0x02u8; 32], vec![0x01u8; 32]);
        let tree = HashTree::build(TreeHash::Sha256, &[a.clone(), b.clone()]);
        assert_eq!(tree.root(), TreeHash::Sha256.digest(&[b, a].concat()).as_slice());
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 15, 255])).unwrap(), vec![0, 15, 255]);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
