//! HTTP: the line parsers generated from `grammars/http.npac`, handed to the
//! stream state machine of `netpac_analyzers::http`.

use crate::proto::http::{Header, Limits, RequestLine, StatusLine};
use netpac_analyzers::http as glue;
use netpac_runtime::analyzer::Analyzer;
use netpac_runtime::parse::{Cursor, ParseCx, ParseError};

pub use glue::{sniff_mime, unescape_uri, HttpAnalyzer as GenericHttpAnalyzer};

/// The generated HTTP line parsers.
pub struct Grammar;

const LIMITS: Limits = Limits {};

impl glue::HttpGrammar for Grammar {
    fn request_line<'a>(
        line: &'a [u8],
        cx: &mut ParseCx,
    ) -> Result<glue::RequestLine<'a>, ParseError> {
        let r = RequestLine::parse(&mut Cursor::new(line), cx, &LIMITS)?;
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
        let s = StatusLine::parse(&mut Cursor::new(line), cx, &LIMITS)?;
        Ok(glue::StatusLine {
            magic: s.magic,
            version: s.version,
            code: s.code,
            reason: s.reason,
        })
    }
    fn header<'a>(line: &'a [u8], cx: &mut ParseCx) -> Result<glue::HeaderLine<'a>, ParseError> {
        let h = Header::parse(&mut Cursor::new(line), cx, &LIMITS)?;
        Ok(glue::HeaderLine {
            name: h.name,
            value: h.value,
        })
    }
}

/// The HTTP analyzer netpac attaches (`grammars/http.evt`).
pub type HttpAnalyzer = glue::HttpAnalyzer<Grammar>;

/// Constructor named by `grammars/http.evt`.
pub fn new_analyzer() -> Box<dyn Analyzer> {
    Box::new(HttpAnalyzer::default())
}
