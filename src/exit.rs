//! The documented exit codes, one enum for every command (README "Exit codes"). Ordered by how
//! bad: where several results combine, the worst wins.

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Success: published, verified, nothing to do.
    Ok,
    /// A batch or document failed, or a verification found a problem (run/watch: some batches
    /// were quarantined).
    Failed,
    /// Usage, profile, key, certificate or batch-sheet error, found before any page is read.
    Usage,
    /// The archive is not usable or full, or the batch id is published there from other input.
    Archive,
    /// SIGINT/SIGTERM interrupted a batch in hand; it was put back.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Archive => 3,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
