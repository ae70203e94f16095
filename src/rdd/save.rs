//! Writing an RDD as files in a new directory, committed atomically:
//! `save_as_text_file` (one `part-NNNNN` per partition) and the DataFrame
//! writers (Parquet, CSV, JSON, optionally in `col=value/` directories),
//! which share [`Rdd::write_files`].
//!
//! Each task encodes its partition into files and writes them as hidden
//! files of its own attempt, `<dir>/.flint-tmp-part-NNNNN-A-I` (readers skip
//! hidden files). When the whole job has succeeded the driver
//! renames each partition's successful attempt's files into place, deletes
//! the leftovers of failed attempts and writes `_SUCCESS`. If the job fails,
//! the output directory (which must not exist beforehand) is removed, so a
//! failed job leaves nothing half-written behind.

use std::fmt::Display;
use std::io::Write;
use std::sync::Arc;

use object_store::path::Path as StorePath;

use super::{BoxIter, Data, Rdd};
use crate::error::{Error, Result};
use crate::io;
use crate::scheduler::{TaskContext, run_job};

const TEMP_PREFIX: &str = ".flint-tmp-part-";

/// A file a task produced: its path below the output directory, as
/// directory and file names, and its bytes.
pub(crate) type OutputFile = (Vec<String>, Vec<u8>);

/// `base` with the names of `rel` appended (each escaped by the object
/// store where it must be: a `/` inside a name does not nest).
fn below(base: &StorePath, rel: &[String]) -> StorePath {
    rel.iter().fold(base.clone(), |p, part| p.join(part.as_str()))
}

impl<T: Data> Rdd<T> {
    /// Writes the files `encode` makes of each partition into the new
    /// directory `dir`, atomically (see the module documentation). `encode`
    /// gets the task's context and the partition's elements; a task whose
    /// input failed writes nothing and the job fails.
    pub(crate) fn write_files(
        &self,
        dir: &str,
        action: &str,
        encode: impl Fn(&Arc<TaskContext>, BoxIter<T>) -> Result<Vec<OutputFile>> + Send + Sync,
    ) -> Result<()> {
        let loc = io::resolve(dir)?;
        let session = self.session();
        if !io::list_all(session, &loc.store, &loc.path)?.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "output directory '{dir}' already exists"
            )));
        }
        let (store, out_dir) = (loc.store.clone(), loc.path.clone());
        let written = run_job(
            session,
            self,
            &(0..self.num_partitions()).collect::<Vec<_>>(),
            action,
            move |tc, iter| {
                let files = encode(tc, iter)?;
                if tc.has_failed() {
                    return Ok(Vec::new());
                }
                let mut done = Vec::with_capacity(files.len());
                for (i, (rel, bytes)) in files.into_iter().enumerate() {
                    let name = format!("{TEMP_PREFIX}{:05}-{}-{i}", tc.partition_id(), tc.attempt_number());
                    let path = out_dir.clone().join(name);
                    io::put(&tc.session, &store, &path, bytes)?;
                    done.push((path, rel));
                }
                Ok(done)
            },
        );
        let commit = written.and_then(|parts| {
            for (path, rel) in parts.into_iter().flatten() {
                io::rename(session, &loc.store, &path, &below(&loc.path, &rel))?;
            }
            for leftover in io::list_all(session, &loc.store, &loc.path)? {
                if leftover.location.filename().is_some_and(|f| f.starts_with(TEMP_PREFIX)) {
                    io::delete(session, &loc.store, &leftover.location)?;
                }
            }
            io::put(session, &loc.store, &loc.path.clone().join("_SUCCESS"), Vec::new())
        });
        if let Err(e) = commit {
            // Best effort: the error that matters is the job's.
            let _ = io::delete_all(session, &loc.store, &loc.path);
            return Err(e);
        }
        Ok(())
    }
}

impl<T: Data + Display> Rdd<T> {
    /// Writes each element on its own line, one file per partition, into a
    /// new directory.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let dir = tempfile::tempdir().unwrap();
    /// let out = dir.path().join("out");
    /// let ctx = SessionContext::new();
    /// ctx.range(0, 4, 1, 2).save_as_text_file(out.to_str().unwrap()).unwrap();
    /// assert_eq!(std::fs::read_to_string(out.join("part-00001")).unwrap(), "2\n3\n");
    /// assert!(out.join("_SUCCESS").exists());
    /// ```
    pub fn save_as_text_file(&self, dir: &str) -> Result<()> {
        self.write_files(dir, "save_as_text_file", |tc, iter| {
            let mut buf = Vec::new();
            for x in iter {
                writeln!(buf, "{x}")?;
            }
            Ok(vec![(vec![format!("part-{:05}", tc.partition_id())], buf)])
        })
    }
}
