pub mod batch;
pub mod decode;
pub mod ocr;
pub mod pdfa;
pub mod prepare;
pub mod profile;
pub mod seal;
