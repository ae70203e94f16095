//! Which files a table path names, shared by every file format: one file,
//! the data files below a directory, or the files matching a glob.
//!
//! A directory contributes the files below it (recursively) whose extension
//! is one of the format's, skipping hidden and bookkeeping names (`_SUCCESS`,
//! `.crc`, `_temporary/`) as Hadoop does. A glob (`data/*.parquet`,
//! `logs/**/part-*.csv`, `t/{a,b}.csv`) is matched by listing the longest
//! prefix of the path without glob characters and filtering the listing; `*`
//! and `?` stay within one path segment, `**` crosses segments. A single
//! file is taken whatever its extension.

use std::sync::Arc;

use globset::GlobBuilder;
use object_store::path::Path as StorePath;
use object_store::{ObjectMeta, ObjectStore};

use crate::error::{Error, Result};
use crate::io;
use crate::session::SessionState;

/// Characters that make a path a glob.
const GLOB_CHARS: &[char] = &['*', '?', '[', '{'];

/// The files of a table, sorted by path.
#[derive(Clone, Debug)]
pub(crate) struct Listing {
    /// The store the files are in.
    pub store: Arc<dyn ObjectStore>,
    /// The files (never empty).
    pub files: Vec<ObjectMeta>,
}

/// How a file is named in messages: its absolute local path.
pub(crate) fn display_path(path: &StorePath) -> String {
    format!("/{path}")
}

/// Lists the files behind `path` (a file, a directory or a glob); in a
/// directory only files with one of `extensions` (lower case, no dot) count.
/// Fails when no file matches.
pub(crate) fn list(session: &SessionState, path: &str, extensions: &[&str]) -> Result<Listing> {
    if path.contains(GLOB_CHARS) {
        return list_glob(session, path);
    }
    let loc = io::resolve(path)?;
    let files = io::list_files(session, &loc)?;
    if files.len() == 1 && files[0].location == loc.path {
        return Ok(Listing {
            store: loc.store,
            files,
        });
    }
    let files: Vec<ObjectMeta> = files
        .into_iter()
        .filter(|f| has_extension(&f.location, extensions))
        .collect();
    if files.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "no .{} files in directory '{path}'",
            extensions.join(", .")
        )));
    }
    Ok(Listing {
        store: loc.store,
        files,
    })
}

fn has_extension(path: &StorePath, extensions: &[&str]) -> bool {
    path.extension()
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Splits a glob into the directory to list and the pattern to match below
/// it: `data/2024/*.csv` → (`data/2024`, `*.csv`).
fn split_glob(pattern: &str) -> (String, String) {
    let parts: Vec<&str> = pattern.split('/').collect();
    let first = parts.iter().position(|p| p.contains(GLOB_CHARS)).unwrap_or(parts.len());
    let prefix = parts[..first].join("/");
    let prefix = match (prefix.is_empty(), pattern.starts_with('/')) {
        (true, true) => "/".to_string(),
        (true, false) => ".".to_string(),
        (false, _) => prefix,
    };
    (prefix, parts[first..].join("/"))
}

fn list_glob(session: &SessionState, pattern: &str) -> Result<Listing> {
    let raw = pattern.strip_prefix("file://").unwrap_or(pattern);
    let (prefix, rest) = split_glob(raw);
    let matcher = GlobBuilder::new(&rest)
        .literal_separator(true)
        .build()
        .map_err(|e| Error::InvalidArgument(format!("invalid glob '{pattern}': {e}")))?
        .compile_matcher();
    let loc = io::resolve(&prefix)?;
    let mut files = io::list_all(session, &loc.store, &loc.path)?;
    files.retain(|meta| {
        let Some(parts) = meta.location.prefix_match(&loc.path) else {
            return false;
        };
        let rel = StorePath::from_iter(parts);
        !io::is_hidden(&rel) && matcher.is_match(rel.as_ref())
    });
    if files.is_empty() {
        return Err(Error::InvalidArgument(format!("no files match '{pattern}'")));
    }
    files.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(Listing {
        store: loc.store,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionContext;

    fn names(listing: &Listing) -> Vec<String> {
        listing
            .files
            .iter()
            .map(|f| f.location.filename().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn splits_globs_at_the_first_glob_segment() {
        assert_eq!(split_glob("data/*.csv"), ("data".into(), "*.csv".into()));
        assert_eq!(split_glob("/a/b/**/x.csv"), ("/a/b".into(), "**/x.csv".into()));
        assert_eq!(split_glob("*.csv"), (".".into(), "*.csv".into()));
        assert_eq!(split_glob("/*.csv"), ("/".into(), "*.csv".into()));
    }

    #[test]
    fn directories_globs_and_single_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("y=1")).unwrap();
        std::fs::create_dir_all(root.join("_temporary")).unwrap();
        for f in [
            "a.csv",
            "b.CSV",
            "notes.txt",
            "_SUCCESS",
            ".a.csv.crc",
            "y=1/c.csv",
            "_temporary/d.csv",
        ] {
            std::fs::write(root.join(f), "x\n").unwrap();
        }
        let ctx = SessionContext::new();
        let s = &ctx.state;
        let base = root.to_str().unwrap();

        assert_eq!(names(&list(s, base, &["csv"]).unwrap()), ["a.csv", "b.CSV", "c.csv"]);
        assert_eq!(names(&list(s, &format!("{base}/*.csv"), &[]).unwrap()), ["a.csv"]);
        assert_eq!(
            names(&list(s, &format!("{base}/**/*.csv"), &[]).unwrap()),
            ["a.csv", "c.csv"]
        );
        assert_eq!(names(&list(s, &format!("{base}/y=*/c.csv"), &[]).unwrap()), ["c.csv"]);
        assert_eq!(names(&list(s, &format!("{base}/{{a,x}}.csv"), &[]).unwrap()), ["a.csv"]);
        assert_eq!(
            names(&list(s, &format!("{base}/notes.txt"), &["csv"]).unwrap()),
            ["notes.txt"]
        );

        let err = list(s, &format!("{base}/*.json"), &[]).unwrap_err().to_string();
        assert!(err.contains("no files match") && err.contains("*.json"), "{err}");
        let err = list(s, base, &["parquet"]).unwrap_err().to_string();
        assert!(err.contains("no .parquet files"), "{err}");
        let err = list(s, &format!("{base}/[.csv"), &[]).unwrap_err().to_string();
        assert!(err.contains("invalid glob"), "{err}");
    }
}
