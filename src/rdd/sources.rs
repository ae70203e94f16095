//! Where RDDs start: in-memory collections, numeric ranges and text files.

use std::sync::Arc;

use memchr::memchr;
use object_store::ObjectStore;
use object_store::path::Path as StorePath;

use super::{BoxIter, Data, Rdd, RddBase, RddCompute, RddMeta, SharedVecIter};
use crate::SessionContext;
use crate::error::{Error, Result};
use crate::io;
use crate::scheduler::TaskContext;
use crate::session::SessionState;

type GenFn<T> = dyn Fn(usize, &Arc<TaskContext>) -> Result<BoxIter<T>> + Send + Sync;

/// An RDD without parents whose partitions come from a function.
pub(crate) struct GeneratorRdd<T> {
    meta: RddMeta,
    num_partitions: usize,
    generate: Arc<GenFn<T>>,
}

impl<T: Data> GeneratorRdd<T> {
    pub(crate) fn create(
        session: &Arc<SessionState>,
        name: &str,
        num_partitions: usize,
        generate: impl Fn(usize, &Arc<TaskContext>) -> Result<BoxIter<T>> + Send + Sync + 'static,
    ) -> Rdd<T> {
        Rdd::from_node(Self {
            meta: RddMeta::new(session, name),
            num_partitions,
            generate: Arc::new(generate),
        })
    }
}

impl<T: Data> RddBase for GeneratorRdd<T> {
    fn meta(&self) -> &RddMeta {
        &self.meta
    }
    fn num_partitions(&self) -> usize {
        self.num_partitions
    }
    fn dependencies(&self) -> Vec<super::Dependency> {
        Vec::new()
    }
}

impl<T: Data> RddCompute<T> for GeneratorRdd<T> {
    fn compute(&self, split: usize, tc: &Arc<TaskContext>) -> Result<BoxIter<T>> {
        (self.generate)(split, tc)
    }
}

/// Bounds of slice `i` of `n` over `len` elements, as Spark's `numSlices`.
fn slice_bounds(len: usize, n: usize, i: usize) -> (usize, usize) {
    let start = (i as u128 * len as u128 / n as u128) as usize;
    let end = ((i as u128 + 1) * len as u128 / n as u128) as usize;
    (start, end)
}

/// Files bigger than this are split into several partitions (Hadoop's local
/// block size).
const MAX_SPLIT_BYTES: u64 = 32 << 20;

#[derive(Clone)]
struct FileSplit {
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    start: u64,
    end: u64,
    size: u64,
}

impl SessionContext {
    /// Distributes a local collection over `num_slices` partitions, split
    /// evenly as Spark's `numSlices` does (`0` means the default
    /// parallelism).
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let rdd = ctx.parallelize((0..100).collect::<Vec<i32>>(), 4);
    /// let sizes: Vec<usize> = rdd.glom().collect().unwrap().iter().map(|p| p.len()).collect();
    /// assert_eq!(sizes, vec![25, 25, 25, 25]);
    /// ```
    pub fn parallelize<T: Data>(&self, data: Vec<T>, num_slices: usize) -> Rdd<T> {
        let n = if num_slices == 0 {
            self.default_parallelism()
        } else {
            num_slices
        };
        let data = Arc::new(data);
        GeneratorRdd::create(&self.state, "parallelize", n, move |i, _| {
            let (start, end) = slice_bounds(data.len(), n, i);
            Ok(Box::new(SharedVecIter::range(Arc::clone(&data), start, end)) as BoxIter<T>)
        })
    }

    /// [`SessionContext::parallelize`] into the default number of partitions.
    pub fn parallelize_default<T: Data>(&self, data: Vec<T>) -> Rdd<T> {
        self.parallelize(data, self.default_parallelism())
    }

    /// The numbers `start, start + step, ...` up to but excluding `end`, in
    /// `num_slices` partitions (`0`: the default parallelism). A `step` of 0
    /// makes the first action fail with [`Error::InvalidArgument`].
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// assert_eq!(ctx.range(10, 0, -3, 2).collect().unwrap(), vec![10, 7, 4, 1]);
    /// ```
    pub fn range(&self, start: i64, end: i64, step: i64, num_slices: usize) -> Rdd<i64> {
        let n = if num_slices == 0 {
            self.default_parallelism()
        } else {
            num_slices
        };
        let count: i128 = if step == 0 {
            0
        } else {
            let span = end as i128 - start as i128;
            if (span > 0) != (step > 0) || span == 0 {
                0
            } else {
                (span + step as i128 - step.signum() as i128) / step as i128
            }
        };
        GeneratorRdd::create(&self.state, "range", n, move |i, _| {
            if step == 0 {
                return Err(Error::InvalidArgument("range: step must not be 0".into()));
            }
            let lo = count * i as i128 / n as i128;
            let hi = count * (i as i128 + 1) / n as i128;
            Ok(Box::new((lo..hi).map(move |k| (start as i128 + k * step as i128) as i64)) as BoxIter<i64>)
        })
    }

    /// The lines of a text file, or of every file in a directory (files
    /// whose names start with `_` or `.` are skipped), read through
    /// `object_store`. Files are split into at least `min_partitions` byte
    /// ranges; a line belongs to the range its first byte is in. Line ends
    /// (`\n` or `\r\n`) are removed; invalid UTF-8 is replaced.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("a.txt");
    /// std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
    /// let ctx = SessionContext::new();
    /// let lines = ctx.text_file(path.to_str().unwrap(), 2).unwrap();
    /// assert_eq!(lines.collect().unwrap(), vec!["one", "two", "three"]);
    /// ```
    pub fn text_file(&self, path: &str, min_partitions: usize) -> Result<Rdd<String>> {
        let loc = io::resolve(path)?;
        let files = io::list_files(&self.state, &loc)?;
        let total: u64 = files.iter().map(|f| f.size).sum();
        let goal = total.div_ceil(min_partitions.max(1) as u64).max(1);
        let split_size = goal.min(MAX_SPLIT_BYTES);
        let mut splits = Vec::new();
        for f in files {
            if f.size == 0 {
                continue;
            }
            let mut start = 0;
            while start < f.size {
                let end = (start + split_size).min(f.size);
                splits.push(FileSplit {
                    store: Arc::clone(&loc.store),
                    path: f.location.clone(),
                    start,
                    end,
                    size: f.size,
                });
                start = end;
            }
        }
        if splits.is_empty() {
            return Ok(GeneratorRdd::create(&self.state, "text_file", 1, |_, _| {
                Ok(Box::new(std::iter::empty()) as BoxIter<String>)
            }));
        }
        let splits = Arc::new(splits);
        Ok(GeneratorRdd::create(
            &self.state,
            "text_file",
            splits.len(),
            move |i, tc| {
                let lines = read_split_lines(&tc.session, &splits[i])?;
                Ok(Box::new(lines.into_iter()) as BoxIter<String>)
            },
        ))
    }
}

/// Reads the lines whose first byte lies in `[split.start, split.end)`.
fn read_split_lines(session: &SessionState, split: &FileSplit) -> Result<Vec<String>> {
    const CHUNK: u64 = 64 << 10;
    // One byte before the split tells whether a line starts exactly at it.
    let lo = split.start.saturating_sub(1);
    let mut buf = io::read_range(session, &split.store, &split.path, lo..split.end)?.to_vec();
    let mut buf_end = split.end;
    let mut pos = if split.start == 0 {
        0
    } else {
        match memchr(b'\n', &buf) {
            Some(i) => i + 1,
            None => buf.len(),
        }
    };
    let mut lines = Vec::new();
    // `lo + pos` is the file offset of the next line's first byte.
    while lo + (pos as u64) < split.end {
        let line_end = loop {
            if let Some(i) = memchr(b'\n', &buf[pos..]) {
                break Some(pos + i);
            }
            if buf_end >= split.size {
                break None;
            }
            let next = (buf_end + CHUNK).min(split.size);
            buf.extend_from_slice(&io::read_range(session, &split.store, &split.path, buf_end..next)?);
            buf_end = next;
        };
        let (content_end, next_pos) = match line_end {
            Some(e) => (e, e + 1),
            None => (buf.len(), buf.len()),
        };
        let mut line = &buf[pos..content_end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        lines.push(String::from_utf8_lossy(line).into_owned());
        pos = next_pos;
        if line_end.is_none() {
            break;
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_slices() {
        let b: Vec<_> = (0..4).map(|i| slice_bounds(10, 4, i)).collect();
        assert_eq!(b, vec![(0, 2), (2, 5), (5, 7), (7, 10)]);
    }

    #[test]
    fn text_splits_keep_every_line_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let text: String = (0..500).map(|i| format!("line {i}{}\n", "x".repeat(i % 37))).collect();
        std::fs::write(&path, &text).unwrap();
        let ctx = SessionContext::new();
        for parts in [1, 2, 3, 7, 64, 1000] {
            let rdd = ctx.text_file(path.to_str().unwrap(), parts).unwrap();
            let lines = rdd.collect().unwrap();
            let expected: Vec<String> = text.lines().map(String::from).collect();
            assert_eq!(lines, expected, "{parts} partitions");
        }
    }

    #[test]
    fn text_file_without_final_newline_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a\r\nb").unwrap();
        std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
        std::fs::write(dir.path().join("b.txt"), "c\n").unwrap();
        let ctx = SessionContext::new();
        let rdd = ctx.text_file(dir.path().to_str().unwrap(), 4).unwrap();
        assert_eq!(rdd.collect().unwrap(), vec!["a", "b", "c"]);
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let ctx = SessionContext::new();
        let err = ctx.text_file("/no/such/place.txt", 1).unwrap_err();
        assert!(err.to_string().contains("/no/such/place.txt"), "{err}");
    }

    #[test]
    fn range_counts() {
        let ctx = SessionContext::new();
        assert_eq!(ctx.range(0, 10, 3, 3).collect().unwrap(), vec![0, 3, 6, 9]);
        assert_eq!(ctx.range(0, 0, 1, 2).count().unwrap(), 0);
        assert_eq!(ctx.range(5, 0, 1, 2).count().unwrap(), 0);
        assert!(ctx.range(0, 5, 0, 2).count().is_err());
    }
}
