//! The `scanwerk` binary: parse arguments, run the command, return its exit code.

mod cli;

use std::os::unix::process::CommandExt;

use clap::Parser;

/// jemalloc serves every allocation of the process: it is built with unprefixed `malloc`, `free`
/// and friends, which the dynamic linker binds tesseract's and leptonica's calls to as well
/// (tested: `tesseract_and_leptonica_allocate_through_the_binarys_jemalloc`). Recognising a
/// generated A4 page then takes 1.5 % fewer instructions than on glibc's malloc (callgrind: 23.01
/// against 23.35 billion, the whole page 25.67 against 26.10), with the same output bytes and
/// peak memory as flat (`benches/results/instructions-notes.md`, `memory-scaling.md`).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    quiet_on_closed_pipe();
    single_threaded_tesseract();
    #[cfg(not(feature = "jemalloc"))]
    keep_heap_memory();
    cli::run(cli::Cli::parse())
}

/// `scanwerk profiles | head -1`: a reader that closes the pipe early ends scanwerk quietly, as it
/// ends `ls` or `cat`, instead of a panic on the failed write. Sockets are unaffected: the
/// standard library sends with MSG_NOSIGNAL (NATS, time-stamp services).
fn quiet_on_closed_pipe() {
    // SAFETY: restores the default disposition of one signal before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Tesseract allocates and frees heavily on every page. With several workers in one process,
/// glibc gives each thread its own heap and hands freed memory back to the kernel eagerly, so
/// every page faults its memory in again. Keeping freed memory (bounded by the pages in flight)
/// cut page faults by a third in `scripts/bench.sh` runs. Blocks of 4 MiB and more (page
/// rasters: an A4 grey page at 300 dpi is 8.7 MB) are mapped and unmapped on their own instead,
/// so they never leave holes in those heaps; with a trim after each document (the pipeline's
/// `release_free_memory`) peak RSS stays flat from 50 to 1,000 pages (`scripts/memory-scaling.sh`).
/// Only for glibc's malloc: the default build allocates with jemalloc.
#[cfg(not(feature = "jemalloc"))]
fn keep_heap_memory() {
    // SAFETY: mallopt only adjusts allocator parameters; called before any thread is started.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// Tesseract must run single-threaded per engine; parallelism comes from pages. OpenMP (libgomp,
/// loaded with libtesseract) reads `OMP_THREAD_LIMIT` when the library is loaded, before `main`,
/// so setting it now is too late: the process re-executes itself once with it set.
fn single_threaded_tesseract() {
    if std::env::var_os("OMP_THREAD_LIMIT").is_some_and(|v| v == "1") {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    eprintln!("warning: could not re-execute with OMP_THREAD_LIMIT=1 ({err}); OCR may oversubscribe cores");
}
