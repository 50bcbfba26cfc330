//! HTTP: the line parsers generated from `grammars/http.npac`, handed to the
//! stream state machine of `netpac_analyzers::http`.

use crate::proto::http::{Header, Limits, RequestLine, StatusLine};
use netpac_analyzers::http as glue;
use netpac_runtime::analyzer::Analyzer;
use netpac_runtime::parse::{Cursor, ParseCx, ParseError};

pub use glue::{sniff_mime, unescape_uri, HttpAnalyzer as GenericHttpAnalyzer};

/// The generated HTTP line parsers.
pub struct Grammar;

impl glue::HttpGrammar for Grammar {
    fn request_line<'a>(
        line: &'a [u8],
        cx: &mut ParseCx,
    ) -> Result<glue::RequestLine<'a>, ParseError> {
        let r = RequestLine::parse(&mut Cursor::new(line), cx, &Limits::default())?;
        Ok(glue::RequestLine {
            method: r.method,
            uri: r.uri,
            version: r.version,
        })
    }
    fn status_line<'a>(
        line: &'a [u8],
        cx: &mut ParseCx,
    ) -> Result<glue::StatusLine<'a>, ParseError> {
        let s = StatusLine::parse(&mut Cursor::new(line), cx, &Limits::default())?;
        Ok(glue::StatusLine {
            magic: s.magic,
            version: s.version,
            code: s.code,
            reason: s.reason,
        })
    }
    fn header<'a>(line: &'a [u8], cx: &mut ParseCx) -> Result<glue::HeaderLine<'a>, ParseError> {
        let h = Header::parse(&mut Cursor::new(line), cx, &Limits::default())?;
        Ok(glue::HeaderLine {
            name: h.name,
            value: h.value,
        })
    }
}

/// The HTTP analyzer netpac attaches (`grammars/http.evt`).
pub type HttpAnalyzer = glue::HttpAnalyzer<Grammar>;

/// The glue's bounds, as `grammars/http.npac` declares them.
pub fn limits(l: &Limits) -> glue::Limits {
    let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    glue::Limits {
        max_line: size(l.max_line),
        max_headers: size(l.max_headers),
        max_pending: size(l.max_pending),
        max_decoded: l.max_decoded,
    }
}

/// Constructor named by `grammars/http.evt`.
pub fn new_analyzer() -> Box<dyn Analyzer> {
    Box::new(HttpAnalyzer::new(limits(&Limits::default())))
}
