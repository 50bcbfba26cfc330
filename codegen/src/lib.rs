//! netpac's grammar language: parser, checker and Rust code generator.
