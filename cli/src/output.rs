//! Where results go: standard output or a file (`-o`, `\o`).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

/// The destination of results.
pub enum Sink {
    /// Standard output.
    Stdout,
    /// A file opened by `-o` or `\o`.
    File(BufWriter<File>),
}

impl Sink {
    /// Creates (or truncates) `path` as the destination.
    pub fn file(path: &Path) -> io::Result<Sink> {
        let file = File::create(path)?;
        Ok(Sink::File(BufWriter::new(file)))
    }

    /// Whether results are shown on a terminal.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Sink::Stdout) && io::stdout().is_terminal()
    }

    /// The width of the terminal results are shown on.
    pub fn terminal_width(&self) -> Option<usize> {
        if !self.is_terminal() {
            return None;
        }
        let (_rows, columns) = console::Term::stdout().size_checked()?;
        Some(usize::from(columns))
    }

    /// Writes `f`'s output and flushes it.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut dyn Write) -> T) -> io::Result<T> {
        match self {
            Sink::Stdout => {
                let mut out = BufWriter::new(io::stdout().lock());
                let t = f(&mut out);
                out.flush()?;
                Ok(t)
            }
            Sink::File(file) => {
                let t = f(file);
                file.flush()?;
                Ok(t)
            }
        }
    }
}

/// Whether an I/O error means the reader went away (`query ... | head`).
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}
