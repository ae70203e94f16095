//! `save_as_text_file`: one `part-NNNNN` file per partition, committed
//! atomically.
//!
//! Tasks write hidden files `<dir>/.flint-tmp-part-NNNNN-A`, one per attempt
//! (readers skip hidden files); when the whole job has succeeded the driver
//! renames each partition's successful attempt into place, deletes the
//! leftovers of failed attempts and writes `_SUCCESS`. If the job fails, the output
//! directory (which must not exist beforehand) is removed, so a failed job
//! leaves nothing half-written behind.

use std::fmt::Display;
use std::io::Write;

use super::{Data, Rdd};
use crate::error::{Error, Result};
use crate::io;
use crate::scheduler::run_job;

const TEMP_PREFIX: &str = ".flint-tmp-part-";

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
            "save_as_text_file",
            move |tc, iter| {
                let mut buf = Vec::new();
                for x in iter {
                    writeln!(buf, "{x}")?;
                }
                if tc.has_failed() {
                    return Ok(None);
                }
                let name = format!("{TEMP_PREFIX}{:05}-{}", tc.partition_id(), tc.attempt_number());
                let path = out_dir.clone().join(name);
                io::put(&tc.session, &store, &path, buf)?;
                Ok(Some((tc.partition_id(), path)))
            },
        );
        let commit = written.and_then(|parts| {
            for (partition, path) in parts.into_iter().flatten() {
                let target = loc.path.clone().join(format!("part-{partition:05}"));
                io::rename(session, &loc.store, &path, &target)?;
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
