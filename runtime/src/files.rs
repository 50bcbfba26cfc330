//! File analysis, as far as protocol analyzers hand files over (Zeek's
//! `file_mgr->DataIn`): a grammar says which bytes of a PDU are a file and which
//! file analyzer reads them (`file X509 = c.der on ...;` in a `.evt`); the file
//! analyzers themselves are registered by tag (`Registry::add_file_analyzer`) and
//! raise their own events (X.509's `x509_certificate`).

use crate::parse::EmitCx;

/// One whole file a protocol analyzer delivered.
pub struct FileData<'a, 'e> {
    /// What the protocol's events see: the time, the connection, the direction.
    pub ecx: &'a EmitCx<'e>,
    /// The file's direction: sent by the originator (usually the PDU's direction).
    pub is_orig: bool,
    /// The analyzer that found the file (`SSL`): Zeek's `fa_file$source`.
    pub source: &'static str,
    /// The file's position among those the same PDU delivered (a certificate's
    /// place in its chain).
    pub index: u64,
    pub data: &'a [u8],
}

/// A file analyzer: reads a whole file and raises its events.
pub type FileAnalyzerFn = fn(&mut crate::event::Events, &FileData<'_, '_>);

/// A file analyzer by tag (`X509`).
#[derive(Clone, Copy)]
pub struct FileAnalyzerSpec {
    pub tag: &'static str,
    pub analyze: FileAnalyzerFn,
}
