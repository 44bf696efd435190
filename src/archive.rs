//! Archive: staging a batch inside the archive folder and publishing it by one atomic rename.
//!
//! Everything is written into `<archive>/.staging-<batch>@<host>@<pid>` on the archive's own filesystem;
//! every file and directory is fsynced, then the folder is renamed to `<archive>/<batch>` with
//! `RENAME_NOREPLACE`, so an archive system sees either nothing or the whole batch, and a batch
//! that was published once is never overwritten. A staging folder that is dropped unpublished is
//! removed.

use std::ffi::CString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::seal::Digests;
use crate::seal::hash::HashingWriter;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive folder {path} is not usable: {source}; create it or check its permissions")]
    Unusable { path: PathBuf, source: std::io::Error },
    #[error(
        "batch {batch} is already published at {path} from other input (other files or other \
         content); if this is other paper, give it a new id in batch.toml; if it is a rescan of \
         the same paper, the published batch stands and this one is not needed"
    )]
    AlreadyPublished { batch: String, path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Staging folders are `.staging-<batch>@<host>@<pid>`.
const STAGING_PREFIX: &str = ".staging-";

/// Whether the archive folder can take batches: it exists and is a folder (an error naming why
/// not otherwise: a lost mount, a file in its place).
pub fn usable(archive: &Path) -> std::io::Result<()> {
    match std::fs::metadata(archive)?.is_dir() {
        true => Ok(()),
        false => Err(std::io::Error::other("not a directory")),
    }
}

/// Removes staging folders left by processes of this host that no longer run (killed, crashed):
/// their batch was never published, and its input is still in place.
pub fn remove_abandoned_staging(archive: &Path) {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir(archive) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGING_PREFIX) else {
            continue;
        };
        let mut parts = rest.rsplitn(3, '@');
        let (Some(pid), Some(owner)) = (parts.next(), parts.next()) else {
            continue;
        };
        if owner == host && pid.parse().is_ok_and(|pid| !process_alive(pid)) {
            tracing::info!(staging = %name, "removing the staging folder of a process that is gone");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Takes over the staging folder of `batch` left by a dead process of this host, renaming it to
/// `dir`; others of the same batch are removed. Returns whether one was taken over.
fn adopt_abandoned(archive: &Path, batch: &str, dir: &Path) -> bool {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir(archive) else {
        return false;
    };
    let mut adopted = false;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGING_PREFIX) else {
            continue;
        };
        let parts: Vec<&str> = rest.rsplitn(3, '@').collect();
        let [pid, owner, of] = parts[..] else { continue };
        if of != batch || owner != host || pid.parse().is_ok_and(process_alive) {
            continue;
        }
        if !adopted && resumable(&entry.path()) && rename_noreplace(&entry.path(), dir).is_ok() {
            tracing::info!(staging = %name, "resuming the staging folder of a process that is gone");
            adopted = true;
        } else {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    adopted
}

/// True if a dead process's staging folder can be taken over: it still has its journal. Sealing
/// removes the journal before it moves the batch into a bag's `data/`, so a folder killed from
/// there on is started afresh rather than resumed half moved.
fn resumable(dir: &Path) -> bool {
    dir.join(crate::journal::FILE).is_file()
}

/// In an adopted staging folder, removes every file but the journal and the documents it lists.
fn keep_only_journaled(dir: &Path) {
    let journal = crate::journal::Journal::open(dir);
    let keep: std::collections::HashSet<String> = journal
        .documents()
        .flat_map(|d| {
            [
                format!("{d}.pdf"),
                format!("{d}.json"),
                format!("{d}.alto.xml"),
                format!("{d}.hocr"),
            ]
        })
        .collect();
    for entry in std::fs::read_dir(dir.join("documents"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if !keep.contains(&entry.file_name().to_string_lossy().into_owned()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && entry.file_name() != crate::journal::FILE {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// True if process `pid` exists on this host.
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A batch folder under construction inside the archive.
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    batch: String,
    published: bool,
    resumed: bool,
}

/// A file being written into the staging folder, hashed on the way.
pub type StagedFile = HashingWriter<BufWriter<File>>;

impl Staging {
    /// Creates the staging folder; refuses early if the batch is already published.
    pub fn create(archive: &Path, batch: &str) -> Result<Staging, ArchiveError> {
        let unusable = |source| ArchiveError::Unusable {
            path: archive.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(archive).map_err(unusable)?;
        if !meta.is_dir() {
            return Err(unusable(std::io::Error::other("not a directory")));
        }
        let target = archive.join(batch);
        if target.exists() {
            return Err(ArchiveError::AlreadyPublished {
                batch: batch.into(),
                path: target,
            });
        }
        let dir = archive.join(format!(
            "{STAGING_PREFIX}{batch}@{}@{}",
            gethostname::gethostname().to_string_lossy(),
            std::process::id()
        ));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(unusable)?;
        }
        let resumed = adopt_abandoned(archive, batch, &dir);
        std::fs::create_dir_all(dir.join("documents")).map_err(unusable)?;
        if resumed {
            keep_only_journaled(&dir);
        }
        Ok(Staging {
            dir,
            target,
            batch: batch.into(),
            published: false,
            resumed,
        })
    }

    /// True if the staging folder was taken over from a process that died: its journal lists
    /// the documents that may be reused.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Maps an I/O error on staged file `rel` to an error naming its path.
    pub fn write_err(&self, rel: &str) -> impl Fn(std::io::Error) -> ArchiveError + use<> {
        let path = self.dir.join(rel);
        move |source| ArchiveError::Write {
            path: path.clone(),
            source,
        }
    }

    /// Opens `rel` (e.g. `documents/x.pdf`) for writing.
    pub fn create_file(&self, rel: &str) -> Result<StagedFile, ArchiveError> {
        let file = File::create(self.dir.join(rel)).map_err(self.write_err(rel))?;
        Ok(HashingWriter::new(BufWriter::with_capacity(1 << 20, file)))
    }

    /// Flushes and fsyncs a staged file, returning its digests.
    pub fn close_file(&self, rel: &str, staged: StagedFile) -> Result<Digests, ArchiveError> {
        let (buffered, digests) = staged.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| self.write_err(rel)(e.into_error()))?;
        file.sync_all().map_err(self.write_err(rel))?;
        Ok(digests)
    }

    /// Writes a whole file and returns its digests.
    pub fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<Digests, ArchiveError> {
        let mut staged = self.create_file(rel)?;
        staged.write_all(bytes).map_err(self.write_err(rel))?;
        self.close_file(rel, staged)
    }

    /// Removes a file that turned out not to belong to the batch (a failed document).
    pub fn discard_file(&self, rel: &str) {
        let _ = std::fs::remove_file(self.dir.join(rel));
    }

    /// Makes the batch visible at `<archive>/<batch>` in one step; returns that path.
    pub fn publish(self) -> Result<PathBuf, ArchiveError> {
        let target = self.target.clone();
        self.publish_to(&target)
    }

    /// Moves the finished folder to `target` (not existing, same filesystem) in one step.
    pub fn publish_to(mut self, target: &Path) -> Result<PathBuf, ArchiveError> {
        self.target = target.to_path_buf();
        // The journal is a working file of the staging folder, not part of the batch.
        let journal = self.dir.join(crate::journal::FILE);
        if let Err(source) = std::fs::remove_file(&journal)
            && source.kind() != std::io::ErrorKind::NotFound
        {
            return Err(ArchiveError::Write {
                path: journal,
                source,
            });
        }
        // A bag holds the batch in data/.
        let inner = [
            self.dir.join("documents"),
            self.dir.join("data/documents"),
            self.dir.join("data"),
        ];
        for dir in inner.into_iter().filter(|d| d.is_dir()).chain([self.dir.clone()]) {
            sync_dir(&dir).map_err(|source| ArchiveError::Write {
                path: dir.clone(),
                source,
            })?;
        }
        rename_noreplace(&self.dir, &self.target).map_err(|source| match source.raw_os_error() {
            Some(libc::EEXIST) | Some(libc::ENOTEMPTY) => ArchiveError::AlreadyPublished {
                batch: self.batch.clone(),
                path: self.target.clone(),
            },
            _ => ArchiveError::Write {
                path: self.target.clone(),
                source,
            },
        })?;
        self.published = true;
        let archive = self.target.parent().unwrap_or(Path::new("."));
        sync_dir(archive).map_err(|source| ArchiveError::Write {
            path: archive.into(),
            source,
        })?;
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Adds `name` with `bytes` to a published batch folder: written beside, synced, and renamed into
/// place without replacing anything, so readers see the whole file or none.
pub fn add_to_published(batch: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ArchiveError> {
    let target = batch.join(name);
    let temp = batch.join(format!(".{name}.part-{}", std::process::id()));
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Write { path, source }
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(err(&temp)(e));
    }
    if let Err(e) = rename_noreplace(&temp, &target) {
        let _ = std::fs::remove_file(&temp);
        return Err(err(&target)(e));
    }
    sync_dir(batch).map_err(err(batch))?;
    Ok(target)
}

/// The archive a published batch folder lies in (its parent; `.` for a bare name).
pub fn archive_of(batch: &Path) -> PathBuf {
    batch
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A batch folder's id: its name.
pub fn batch_id_of(batch: &Path) -> String {
    batch
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// A new folder `to_dir/name`, or `name-2`, `name-3`, … if taken.
pub fn unique_dir(to_dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    first_free(to_dir, name, |to| std::fs::create_dir(to))
}

/// Moves `from` to `to_dir/name` (`to_dir` made if missing), or `name-2`, `name-3`, … if taken; returns the new path.
pub fn move_unique(from: &Path, to_dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(to_dir)?;
    first_free(to_dir, name, |to| rename_noreplace(from, to))
}

/// `place` tried at `to_dir/name`, `name-2`, `name-3`, … until a name is not taken; the path used.
pub fn first_free(
    to_dir: &Path,
    name: &str,
    mut place: impl FnMut(&Path) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    for n in 1.. {
        let to = if n == 1 {
            to_dir.join(name)
        } else {
            to_dir.join(format!("{name}-{n}"))
        };
        match place(&to) {
            Ok(()) => return Ok(to),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST) | Some(libc::ENOTEMPTY)) => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("some name is free")
}

/// Every file below `dir` as (relative path with `/`, absolute path), sorted by path.
pub fn files_below(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("below dir");
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((rel.join("/"), path));
            }
        }
    }
    out.sort();
    Ok(out)
}

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// `renameat2(..., RENAME_NOREPLACE)`: fails with EEXIST instead of replacing `to`.
pub fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are valid NUL-terminated strings that live across the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("scanwerk-archive-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn publish_is_all_or_nothing_and_once() {
        let archive = temp("once");
        let staging = Staging::create(&archive, "b1").unwrap();
        let d = staging.write_file("protocol.json", b"{}").unwrap();
        assert_eq!(d, Digests::of(b"{}"));
        assert!(!archive.join("b1").exists(), "not visible before publish");
        let published = staging.publish().unwrap();
        assert_eq!(std::fs::read(published.join("protocol.json")).unwrap(), b"{}");
        assert!(matches!(
            Staging::create(&archive, "b1"),
            Err(ArchiveError::AlreadyPublished { .. })
        ));
        let entries: Vec<_> = std::fs::read_dir(&archive).unwrap().collect();
        assert_eq!(entries.len(), 1, "no staging left behind");
        std::fs::remove_dir_all(&archive).unwrap();
    }

    #[test]
    fn dropped_staging_leaves_nothing() {
        let archive = temp("drop");
        {
            let staging = Staging::create(&archive, "b2").unwrap();
            staging.write_file("documents/x.pdf", b"%PDF").unwrap();
        }
        assert_eq!(std::fs::read_dir(&archive).unwrap().count(), 0);
        std::fs::remove_dir_all(&archive).unwrap();
    }

    /// A staging folder of a dead process of this host, as `Staging::create` names them.
    fn abandoned(archive: &Path, batch: &str) -> PathBuf {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let dir = archive.join(format!("{STAGING_PREFIX}{batch}@{host}@{pid}"));
        std::fs::create_dir_all(dir.join("documents")).unwrap();
        dir
    }

    #[test]
    fn a_staging_folder_killed_while_sealing_is_started_afresh() {
        let archive = temp("killed-sealing");
        // Killed with its journal, before sealing: taken over.
        let dir = abandoned(&archive, "b4");
        std::fs::write(dir.join(crate::journal::FILE), b"").unwrap();
        std::fs::write(dir.join("documents/a.pdf"), b"%PDF").unwrap();
        let staging = Staging::create(&archive, "b4").unwrap();
        assert!(staging.resumed());
        drop(staging);
        // Killed while bagging: the journal removed and the batch half moved into data/.
        let dir = abandoned(&archive, "b5");
        std::fs::create_dir_all(dir.join("data/documents")).unwrap();
        std::fs::write(dir.join("data/protocol.json"), b"{}").unwrap();
        let staging = Staging::create(&archive, "b5").unwrap();
        assert!(!staging.resumed(), "a half-made bag is not resumed");
        let entries: Vec<_> = std::fs::read_dir(staging.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["documents"], "the new staging folder starts empty");
        assert_eq!(
            std::fs::read_dir(&archive).unwrap().count(),
            1,
            "the old one is gone"
        );
        drop(staging);
        std::fs::remove_dir_all(&archive).unwrap();
    }

    #[test]
    fn rename_never_replaces() {
        let archive = temp("race");
        let staging = Staging::create(&archive, "b3").unwrap();
        std::fs::create_dir(archive.join("b3")).unwrap();
        assert!(matches!(
            staging.publish(),
            Err(ArchiveError::AlreadyPublished { .. })
        ));
        std::fs::remove_dir_all(&archive).unwrap();
    }
}
