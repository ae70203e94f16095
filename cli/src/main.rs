//! `query`: Flint's SQL shell. For now it only reports its version; the
//! interactive shell and batch runner arrive with the SQL engine.

fn main() {
    println!("query (flint) {}", env!("CARGO_PKG_VERSION"));
}
