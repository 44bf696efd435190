//! Tesseract's line images kept without PNG compression.
//!
//! For every text line (and every word it retries) tesseract's LSTM recogniser cuts the line out
//! of the page into an `ImageData`, which stores it PNG-encoded and decodes it again moments later
//! (`ImageData::SetPixInternal`/`GetPixInternal`, made for training data). Tesseract built with
//! `TESSERACT_IMAGEDATA_AS_PIX` keeps the image as it is instead, but Debian's libtesseract 5.3 is
//! built without it, and the round trip costs up to a fifth of a page's instructions
//! (`benches/results/instructions.md`, column "of which lines").
//!
//! scanwerk does not rebuild tesseract: while one of its engines recognises a page, the in-memory
//! PNG that tesseract asks leptonica for (`pixWriteMem(…, IFF_PNG)`) is written in leptonica's own
//! serialisation instead (SPIX: a header and the image words as they are, copied), which
//! `pixReadMem` recognises and copies back to the same image, so the recognised text, boxes and
//! confidences are the same bytes. (PNM, tried first, is lossless too but written and read pixel
//! by pixel through stdio: dearer than PNG on bilevel pages.) The binary exports its own
//! `pixWriteMem` (`build.rs`), which the dynamic linker binds tesseract's calls to ahead of
//! leptonica's; every other call, on any thread outside [`recognizing`], goes to leptonica's own
//! `pixWriteMem` unchanged.

use std::cell::Cell;
use std::sync::OnceLock;

use leptonica_sys as sys;

/// leptonica's `IFF_PNG` (imageio.h).
const IFF_PNG: i32 = 3;

thread_local! {
    /// Set while this thread's engine recognises a page.
    static RECOGNIZING: Cell<bool> = const { Cell::new(false) };
    /// Line images this thread kept as SPIX instead of PNG.
    static KEPT_AS_SPIX: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` (one engine's recognition on this thread) with tesseract's line images kept as SPIX.
pub(super) fn recognizing<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            RECOGNIZING.set(self.0);
        }
    }
    // Names the export, so that the linker keeps it in every binary that recognises.
    std::hint::black_box(write_mem as *const ());
    let _reset = Reset(RECOGNIZING.replace(true));
    f()
}

/// How many line images this thread kept as SPIX so far: 0 where the executable does not export
/// `pixWriteMem` (tesseract then compresses them as usual).
#[cfg(test)]
pub(super) fn kept_as_spix() -> u64 {
    KEPT_AS_SPIX.get()
}

type WriteMem = unsafe extern "C" fn(*mut *mut u8, *mut usize, *mut sys::PIX, i32) -> i32;

/// Leptonica's own `pixWriteMem`: the next definition after this binary's.
fn leptonica_write_mem() -> Option<WriteMem> {
    static NEXT: OnceLock<usize> = OnceLock::new();
    // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name only looks the symbol up.
    let address =
        *NEXT.get_or_init(|| unsafe { libc::dlsym(libc::RTLD_NEXT, c"pixWriteMem".as_ptr()) } as usize);
    // SAFETY: a non-null address for `pixWriteMem` is leptonica's function of this signature
    // (`l_ok pixWriteMem(l_uint8 **pdata, size_t *psize, PIX *pix, l_int32 format)`).
    (address != 0).then(|| unsafe { std::mem::transmute::<usize, WriteMem>(address) })
}

/// This binary's `pixWriteMem`: SPIX for the PNG tesseract asks for while recognising, leptonica's
/// own function for everything else. Returns 0 on success, 1 on failure, as leptonica does.
///
/// # Safety
/// The arguments are those of leptonica's `pixWriteMem`: valid out-pointers and a valid PIX.
#[unsafe(export_name = "pixWriteMem")]
pub unsafe extern "C" fn write_mem(
    data: *mut *mut u8,
    size: *mut usize,
    pix: *mut sys::PIX,
    format: i32,
) -> i32 {
    if format == IFF_PNG && RECOGNIZING.get() {
        // SAFETY: the caller's arguments, passed on unchanged (see the function's contract).
        if unsafe { sys::pixWriteMemSpix(data, size, pix) } == 0 {
            KEPT_AS_SPIX.set(KEPT_AS_SPIX.get() + 1);
            return 0;
        }
    }
    match leptonica_write_mem() {
        // SAFETY: as above.
        Some(write) => unsafe { write(data, size, pix, format) },
        None => 1,
    }
}
