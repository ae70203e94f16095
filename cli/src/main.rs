//! `query`: Flint's SQL shell. For now it only reports its version; the
//! interactive shell and batch runner are being built from the modules
//! below.

mod lex;
mod report;
mod split;

fn main() {
    println!("query (flint) {}", env!("CARGO_PKG_VERSION"));
}
