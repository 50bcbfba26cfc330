//! Contents files: where `set_contents_file` has a TCP connection's
//! reassembled bytes written (Zeek's `file` of that function).

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Which sides of a connection `set_contents_file` records (Zeek's
/// `CONTENTS_NONE`, `CONTENTS_ORIG`, `CONTENTS_RESP`, `CONTENTS_BOTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentsDirection {
    None = 0,
    Orig = 1,
    Resp = 2,
    Both = 3,
}

/// A file a TCP stream's reassembled bytes are written to (Zeek's `file`
/// given to `set_contents_file`); both directions may share one.
#[derive(Clone)]
pub struct ContentsFile {
    name: Arc<str>,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl ContentsFile {
    /// Creates (truncating) the file at `path`.
    pub fn create(path: impl AsRef<std::path::Path>) -> std::io::Result<ContentsFile> {
        let path = path.as_ref();
        let file = std::fs::File::create(path)?;
        Ok(ContentsFile::from_writer(path.display().to_string(), file))
    }
    /// Any writer under a name (what `get_contents_file` reports).
    pub fn from_writer(name: impl Into<String>, out: impl Write + Send + 'static) -> ContentsFile {
        ContentsFile {
            name: Arc::from(name.into()),
            out: Arc::new(Mutex::new(Box::new(out))),
        }
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn same_file(&self, other: &ContentsFile) -> bool {
        Arc::ptr_eq(&self.out, &other.out)
    }
    /// Writes all of `data`; the error's text is what Zeek puts in
    /// `contents_file_write_failure`.
    pub(crate) fn write(&self, data: &[u8]) -> std::io::Result<()> {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        out.write_all(data)?;
        out.flush()
    }
}

impl std::fmt::Debug for ContentsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ContentsFile").field(&self.name).finish()
    }
}
