//! `query`: Flint's SQL shell. For now it only reports its version; the
//! interactive shell and batch runner are being built from the modules
//! below.

mod fit;
mod format;
mod lex;
mod output;
mod report;
mod split;
mod table;

fn main() {
    println!("query (flint) {}", env!("CARGO_PKG_VERSION"));
}
