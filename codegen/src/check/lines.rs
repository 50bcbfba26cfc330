//! `tcp port N => lines(orig: A, resp: B) &attrs;`: line framing and its options.

use super::*;
use crate::ast::{AnalyzerDecl, AnalyzerItem, Attr, ExprKind, LinesDecl, Transport, UnitBody};
use crate::ir::{BindTarget, LinesItem};

impl Checker<'_> {
    /// A `lines(...)` item: its units (one per direction) and framing attributes.
    pub(super) fn check_lines_item(
        &mut self,
        a: &AnalyzerDecl,
        item: &AnalyzerItem,
        lines: &LinesDecl,
    ) -> Option<LinesItem> {
        if item.transport != Transport::Tcp {
            self.err(
                lines.span,
                "`lines(...)` frames a TCP stream: use it with `tcp port ...`",
            );
            return None;
        }
        let orig = self.line_unit(a, lines.orig.as_ref(), &lines.orig_args);
        let resp = self.line_unit(a, lines.resp.as_ref(), &lines.resp_args);
        let orig_raw = self.line_unit(a, lines.orig_raw.as_ref(), &lines.orig_raw_args);
        let resp_raw = self.line_unit(a, lines.resp_raw.as_ref(), &lines.resp_raw_args);
        let ((orig, orig_args), (resp, resp_args)) = (orig?, resp?);
        let ((orig_raw, orig_raw_args), (resp_raw, resp_raw_args)) = (orig_raw?, resp_raw?);
        for (raw, line, dir) in [
            (&lines.orig_raw, &lines.orig, "orig"),
            (&lines.resp_raw, &lines.resp, "resp"),
        ] {
            if let (Some((_, span)), None) = (raw, line) {
                self.err(
                    *span,
                    format!("`{dir} raw` needs a line unit for `{dir}`: raw bytes follow its lines"),
                );
                return None;
            }
        }
        let mut out = LinesItem {
            orig,
            resp,
            orig_args,
            resp_args,
            orig_raw,
            resp_raw,
            orig_raw_args,
            resp_raw_args,
            skip_empty: false,
            nul_weird: [false, false],
            cr_is_eol: true,
            lf_is_eol: true,
            delimiter: None,
            skip_partial: false,
            weird_source: None,
            stop_after_gap: false,
        };
        for a in &item.attrs {
            self.lines_attr(a, &mut out);
        }
        if out.delimiter.is_some() && (out.orig_raw.is_some() || out.resp_raw.is_some()) {
            self.err(item.span, "`&delimiter` pieces cannot switch to raw bytes: leave out `raw:` units");
        }
        Some(out)
    }

    /// The unit of one direction and the state it takes; `Some((None, _))` when the
    /// direction is not parsed.
    fn line_unit(
        &mut self,
        a: &AnalyzerDecl,
        dir: Option<&(String, Span)>,
        args: &[(String, Span)],
    ) -> Option<(Option<BindTarget>, Vec<String>)> {
        let Some((name, span)) = dir else {
            return Some((None, Vec::new()));
        };
        let Some(u) = self.w.unit(self.m, name) else {
            self.err(*span, format!("unknown unit `{name}`"));
            return None;
        };
        if !matches!(u.body, UnitBody::Fields(_)) {
            self.err(*span, "a line's unit must be a unit with fields");
            return None;
        }
        let args = self.state_args(a, &(name.clone(), *span), args)?;
        Some((
            Some(BindTarget {
                unit: name.clone(),
                field: None,
            }),
            args,
        ))
    }

    fn lines_attr(&mut self, a: &Attr, out: &mut LinesItem) {
        // Every argument is a bare name from `allowed`.
        let names = |me: &mut Self, allowed: &[&str]| -> Vec<String> {
            let mut v = Vec::new();
            if a.value.is_some() || a.args.is_empty() {
                me.err(
                    a.span,
                    format!("`&{}` takes a list of: {}", a.name, allowed.join(", ")),
                );
                return v;
            }
            for arg in &a.args {
                match &arg.expr.kind {
                    ExprKind::Path(p) if arg.name.is_none() && allowed.contains(&p.as_str()) => {
                        v.push(p.clone())
                    }
                    _ => me.err(
                        arg.span,
                        format!("`&{}` takes a list of: {}", a.name, allowed.join(", ")),
                    ),
                }
            }
            v
        };
        match a.name.as_str() {
            "skip_empty" => {
                if a.value.is_some() || !a.args.is_empty() {
                    self.err(a.span, "`&skip_empty` takes no value");
                }
                out.skip_empty = true;
            }
            "nul_weird" => {
                for d in names(self, &["orig", "resp"]) {
                    out.nul_weird[usize::from(d == "resp")] = true;
                }
            }
            "eol" => {
                let ends = names(self, &["cr", "lf", "crlf"]);
                if !ends.is_empty() {
                    out.cr_is_eol = ends.iter().any(|e| e == "cr");
                    out.lf_is_eol = ends.iter().any(|e| e == "lf");
                }
            }
            "weird_source" => match (a.args.as_slice(), a.value.is_some()) {
                ([arg], false) if arg.name.is_none() => match &arg.expr.kind {
                    ExprKind::Str(s) if !s.is_empty() => out.weird_source = Some(s.clone()),
                    _ => self.err(arg.span, "`&weird_source` takes a name: `&weird_source(\"NVT\")`"),
                },
                _ => self.err(a.span, "`&weird_source` takes a name: `&weird_source(\"NVT\")`"),
            },
            "stop_after_gap" => {
                if a.value.is_some() || !a.args.is_empty() {
                    self.err(a.span, "`&stop_after_gap` takes no value");
                }
                out.stop_after_gap = true;
            }
            "skip_partial" => {
                if a.value.is_some() || !a.args.is_empty() {
                    self.err(a.span, "`&skip_partial` takes no value");
                }
                out.skip_partial = true;
            }
            "delimiter" => match (a.args.as_slice(), a.value.is_some()) {
                ([arg], false) if arg.name.is_none() => match &arg.expr.kind {
                    ExprKind::Bytes(b) if b.len() == 1 => out.delimiter = Some(b[0]),
                    _ => self.err(arg.span, "`&delimiter` takes one byte: `&delimiter(b\">\")`"),
                },
                _ => self.err(a.span, "`&delimiter` takes one byte: `&delimiter(b\">\")`"),
            },
            other => self.err(
                a.span,
                format!("unknown attribute `&{other}` for `lines(...)`: expected `&skip_empty`, `&skip_partial`, `&stop_after_gap`, `&nul_weird(..)`, `&eol(..)`, `&delimiter(..)` or `&weird_source(..)`"),
            ),
        }
    }
}
