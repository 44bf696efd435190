//! scanwerk: replacement scanning (TR-RESISCAN) from raw scanner images to sealed PDF archives.
//!
//! A batch folder goes through read → separate → prepare → recognize → compose → seal → publish;
//! each stage is a module named after it (see `DESIGN.md` and the README's Layout section). This
//! file only declares the modules and names the entry points: [`Config`] (built once from the
//! command line, the batch sheet and the profile) and [`ingest`] (one batch, published atomically
//! or not at all).

pub mod archive;
pub mod audit;
pub mod batch;
pub mod config;
pub mod decode;
pub mod destruction;
pub mod exit;
pub mod findings;
#[doc(hidden)]
pub mod fuzzing;
pub mod handoff;
pub mod inbox;
pub mod ingest;
pub mod journal;
pub mod json;
pub mod layout;
pub mod ocr;
pub mod pdfa;
pub mod pipeline;
pub mod prepare;
pub mod profile;
pub mod progress;
pub mod protocol;
pub mod queue;
pub mod report;
pub mod review;
pub mod schema;
pub mod seal;
pub mod separate;
pub mod stamp;
pub mod verify;

pub use config::{Config, ConfigError, IngestOptions};
pub use exit::Exit;
pub use ingest::{IngestError, IngestReport, StageTimes, ingest, ingest_until, published_from};
pub use stamp::{AttachError, attach_timestamp, pending_query};
