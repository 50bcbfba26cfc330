//! File data connections, as Zeek's File_Analyzer handles them: the first
//! 1024 bytes of the stream (both directions, in arrival order) are kept, and
//! `file_transferred` reports them with the MIME type their magic gives, once
//! the buffer is full or, if it never fills, when the connection ends.
//! `grammars/file.evt` declares the analyzers (FTP_DATA, IRC_DATA) that use it.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/npac_file.rs"));
}
pub use generated::file::register;

use netpac_runtime::analyzer::{Analyzer, AnalyzerCx};
use netpac_runtime::define_event;
use netpac_runtime::record::Connection;
use netpac_runtime::zeek::ZString;

define_event!(
    /// Zeek event `file_transferred`.
    FileTransferred = FILE_TRANSFERRED {
        c: Connection,
        prefix: ZString,
        descr: ZString,
        mime_type: ZString,
    }
);

/// The events this module raises.
pub const EVENT_NAMES: &[&str] = &["file_transferred"];

/// File.cc's BUFFER_SIZE: how much of the file `file_transferred` carries.
pub const PREFIX_SIZE: usize = 1024;

/// Zeek's File_Analyzer.
#[derive(Default)]
pub struct FileAnalyzer {
    prefix: Vec<u8>,
    identified: bool,
}

impl FileAnalyzer {
    fn identify(&mut self, cx: &mut AnalyzerCx<'_>) {
        self.identified = true;
        let prefix = std::mem::take(&mut self.prefix);
        // Zeek asks its file magic; netpac knows the common types (the same
        // table http.log's MIME types come from).
        let mime = crate::http::sniff_mime(&prefix).unwrap_or("<unknown>");
        netpac_runtime::raise!(
            cx.events,
            cx.ts,
            FileTransferred {
                c: cx.conn.record(),
                prefix: ZString::from(prefix),
                descr: ZString::from("<unknown>"),
                mime_type: ZString::from(mime),
            }
        );
    }
}

impl Analyzer for FileAnalyzer {
    fn deliver(&mut self, cx: &mut AnalyzerCx<'_>, _is_orig: bool, data: &[u8]) {
        if self.identified {
            return;
        }
        let n = data.len().min(PREFIX_SIZE - self.prefix.len());
        self.prefix.extend_from_slice(&data[..n]);
        if self.prefix.len() == PREFIX_SIZE {
            self.identify(cx);
        }
    }

    fn done(&mut self, cx: &mut AnalyzerCx<'_>) {
        if !self.identified && !self.prefix.is_empty() {
            self.identify(cx);
        }
    }
}

/// Constructor named by `grammars/file.evt` for FTP_DATA.
pub fn new_ftp_data() -> Box<dyn Analyzer> {
    Box::new(FileAnalyzer::default())
}

/// Zeek's IRC_Data: the same File_Analyzer on a DCC transfer.
pub fn new_irc_data() -> Box<dyn Analyzer> {
    Box::new(FileAnalyzer::default())
}
