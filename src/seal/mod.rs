//! Seal: hashes of every input and output file, and the signature over the batch manifest.
//!
//! Inputs are hashed as soon as their bytes are read, before any decoding; outputs are hashed
//! while they are written. The manifest (`manifest.json`) lists every published file with its
//! SHA-256 and SHA-512 and is signed once with ECDSA P-256 (ring); the public key travels in the
//! manifest so `verify` can check it, and `--trust` pins it.

pub mod hash;
pub mod manifest;
pub mod sign;
pub mod tree;

pub use hash::Digests;
pub use manifest::{Manifest, ManifestEntry};
pub use sign::{SigningKey, TrustedKey};
