//! Seal: hashes, the batch hash tree, signatures, PAdES and time stamps.
//!
//! Inputs are hashed as soon as their bytes are read, before any decoding; outputs are hashed
//! while they are written. Every document and the protocol are leaves of an RFC 4998 hash tree
//! (`tree`) whose root is signed once and optionally time-stamped (`timestamp`, RFC 3161); each
//! PDF can carry its own PAdES signature (`cms`, with the certificate from `cert`). The manifest
//! (`manifest.json`) lists every published file with its SHA-256 and SHA-512 and is signed with
//! ECDSA P-256 or P-384 (`sign`); the public key travels in the manifest so `verify` can check it,
//! and `--trust` pins it.

pub mod cert;
pub mod cms;
pub mod ers;
pub mod hash;
pub mod manifest;
pub mod pades;
pub mod sign;
pub mod timestamp;
pub mod token;
pub mod tree;

pub use hash::Digests;
pub use manifest::{Manifest, ManifestEntry};
pub use sign::{SigningKey, TrustedKey};
