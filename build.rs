//! Link settings for every binary and test executable of the package.

fn main() {
    // Tesseract's calls to leptonica's `pixWriteMem` bind to scanwerk's own (src/ocr/line_images.rs),
    // which the dynamic linker finds only if the executable exports it.
    println!("cargo:rustc-link-arg=-Wl,--export-dynamic-symbol=pixWriteMem");
    println!("cargo:rerun-if-changed=build.rs");
}
