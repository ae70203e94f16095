//! Splits of line-oriented text files (CSV, newline-delimited JSON) and
//! decoding them into record batches.
//!
//! A file is cut into byte ranges; a record belongs to the range its first
//! byte is in, and a record starts at the file's start or after a `\n` (as
//! Hadoop's line reader does). That is only right when no value contains a
//! line break, so formats that allow them read whole files instead.
//!
//! A split is read into memory with one request (plus the tail of its last
//! record) and fed to an Arrow decoder. When decoding fails, the failing
//! record is found by decoding the batch again one record at a time, and the
//! error names the file and the record's line.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use memchr::memchr;
use object_store::ObjectStore;
use object_store::path::Path as StorePath;

use super::listing::display_path;
use super::{ScanMetrics, ScanRequest, scan_iter};
use crate::SessionContext;
use crate::error::{Error, Result};
use crate::io;
use crate::rdd::{BoxIter, GeneratorRdd, Rdd};
use crate::session::SessionState;

/// Splits are at most this big, so a task holds at most about this much.
const MAX_SPLIT_BYTES: u64 = 32 << 20;

/// Bytes fetched per request when looking for the end of a split's last
/// record or counting lines.
const CHUNK: u64 = 1 << 20;

/// The records of one file whose first byte is in `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileSplit {
    /// Index of the file in the table's listing.
    pub file: usize,
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// Cuts files of the given sizes into splits of about `total /
/// target_partitions` bytes (at most [`MAX_SPLIT_BYTES`]), or one split per
/// file when records may span lines. Empty files have no split.
pub(crate) fn plan_splits(sizes: &[u64], target_partitions: usize, splittable: bool) -> Vec<FileSplit> {
    let total: u64 = sizes.iter().sum();
    let size = total
        .div_ceil(target_partitions.max(1) as u64)
        .clamp(1, MAX_SPLIT_BYTES);
    let mut splits = Vec::new();
    for (file, &len) in sizes.iter().enumerate() {
        let step = if splittable { size } else { len.max(1) };
        let mut start = 0;
        while start < len {
            let end = (start + step).min(len);
            splits.push(FileSplit { file, start, end });
            start = end;
        }
    }
    splits
}

/// A file split read into memory: the bytes of its records.
pub(crate) struct SplitData {
    pub store: Arc<dyn ObjectStore>,
    pub path: StorePath,
    /// File offset of `bytes[0]`.
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// Reads the records of `split` of the object `path` (`size` bytes long).
pub(crate) fn read_split(
    session: &SessionState,
    store: &Arc<dyn ObjectStore>,
    path: &StorePath,
    size: u64,
    split: FileSplit,
) -> Result<SplitData> {
    // One byte before the split tells whether a record starts right at it.
    let lo = split.start.saturating_sub(1);
    let head = io::read_range(session, store, path, lo..split.end)?;
    let skip = if split.start == 0 {
        0
    } else {
        memchr(b'\n', &head).map_or(head.len(), |i| i + 1)
    };
    let mut bytes = head[skip..].to_vec();
    let offset = lo + skip as u64;
    // Finish the last record that starts inside the split.
    let mut pos = split.end;
    if !bytes.is_empty() {
        while bytes.last() != Some(&b'\n') && pos < size {
            let next = (pos + CHUNK).min(size);
            let more = io::read_range(session, store, path, pos..next)?;
            match memchr(b'\n', &more) {
                Some(i) => {
                    bytes.extend_from_slice(&more[..=i]);
                    break;
                }
                None => bytes.extend_from_slice(&more),
            }
            pos = next;
        }
    }
    Ok(SplitData {
        store: Arc::clone(store),
        path: path.clone(),
        offset,
        bytes,
    })
}

/// The push-style decoders of Arrow's CSV and JSON readers.
pub(crate) trait BatchDecoder: Send {
    /// Consumes bytes until a batch is full; returns how many.
    fn decode(&mut self, buf: &[u8]) -> std::result::Result<usize, ArrowError>;
    /// The decoded rows as a batch, `None` if there are none.
    fn flush(&mut self) -> std::result::Result<Option<RecordBatch>, ArrowError>;
}

impl BatchDecoder for arrow::csv::reader::Decoder {
    fn decode(&mut self, buf: &[u8]) -> std::result::Result<usize, ArrowError> {
        arrow::csv::reader::Decoder::decode(self, buf)
    }
    fn flush(&mut self) -> std::result::Result<Option<RecordBatch>, ArrowError> {
        arrow::csv::reader::Decoder::flush(self)
    }
}

impl BatchDecoder for arrow::json::reader::Decoder {
    fn decode(&mut self, buf: &[u8]) -> std::result::Result<usize, ArrowError> {
        arrow::json::reader::Decoder::decode(self, buf)
    }
    fn flush(&mut self) -> std::result::Result<Option<RecordBatch>, ArrowError> {
        arrow::json::reader::Decoder::flush(self)
    }
}

/// Makes a decoder that emits batches of the given size.
pub(crate) type MakeDecoder = Arc<dyn Fn(usize) -> Result<Box<dyn BatchDecoder>> + Send + Sync>;

/// Decodes the records of a split into batches.
pub(crate) struct SplitDecoder {
    data: SplitData,
    make: MakeDecoder,
    decoder: Box<dyn BatchDecoder>,
    /// Next byte to decode.
    pos: usize,
    /// Where the records of the batch being decoded start.
    batch_start: usize,
    done: bool,
    session: Arc<SessionState>,
    /// The format, for messages: `CSV`, `JSON`.
    format: &'static str,
}

impl SplitDecoder {
    /// Decodes `data` from byte `start` (past a header) in batches of
    /// `batch_size` rows, with decoders from `make`.
    pub fn new(
        session: Arc<SessionState>,
        format: &'static str,
        data: SplitData,
        start: usize,
        batch_size: usize,
        make: MakeDecoder,
    ) -> Result<Self> {
        let decoder = make(batch_size.max(1))?;
        Ok(Self {
            data,
            make,
            decoder,
            pos: start,
            batch_start: start,
            done: false,
            session,
            format,
        })
    }

    /// The next batch, `None` at the end of the split.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.done {
            return Ok(None);
        }
        loop {
            // An empty slice tells the decoder the input has ended.
            let n = match self.decoder.decode(&self.data.bytes[self.pos..]) {
                Ok(n) => n,
                Err(e) => return Err(self.locate(e)),
            };
            self.pos += n;
            if n == 0 {
                break;
            }
        }
        match self.decoder.flush() {
            Ok(Some(batch)) => {
                self.batch_start = self.pos;
                Ok(Some(batch))
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => Err(self.locate(e)),
        }
    }

    /// Turns a decoding error of the current batch into one that names the
    /// file and the line of the failing record.
    fn locate(&self, err: ArrowError) -> Error {
        let bytes = &self.data.bytes;
        let (record, err) = match self.find_bad_record() {
            Some((at, e)) => (at, e),
            None => (self.batch_start, err),
        };
        let record = record + bytes[record..].iter().take_while(|b| b.is_ascii_whitespace()).count();
        let file = display_path(&self.data.path);
        let lines_before = count_newlines(&self.session, &self.data.store, &self.data.path, self.data.offset)
            .map(|n| n + bytecount(&bytes[..record.min(bytes.len())]));
        let what = match lines_before {
            Ok(n) => format!("{} file '{file}' line {}", self.format, n + 1),
            Err(_) => format!(
                "{} file '{file}' at byte {}",
                self.format,
                self.data.offset + record as u64
            ),
        };
        Error::Arrow(strip_relative_line(err)).context(format!("reading {what}"))
    }

    /// Decodes the current batch again record by record; the start of the
    /// first record that fails and its error.
    fn find_bad_record(&self) -> Option<(usize, ArrowError)> {
        let mut decoder = (self.make)(1).ok()?;
        let bytes = &self.data.bytes;
        let mut pos = self.batch_start;
        loop {
            let record = pos;
            loop {
                match decoder.decode(&bytes[pos..]) {
                    Ok(0) => break,
                    Ok(n) => pos += n,
                    Err(e) => return Some((record, e)),
                }
            }
            match decoder.flush() {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(e) => return Some((record, e)),
            }
        }
    }
}

/// Given the bytes of a file's first split, where its records start (past
/// the header).
pub(crate) type SkipHeader = Arc<dyn Fn(&[u8]) -> Result<usize> + Send + Sync>;

/// A scan of a line-oriented text table: one RDD partition per split.
pub(crate) struct TextScan {
    /// The format, for names and messages: `CSV`, `JSON`.
    pub format: &'static str,
    /// The table's files.
    pub listing: super::listing::Listing,
    /// Whether files may be cut at line breaks.
    pub splittable: bool,
    /// Decoders producing the scan's projected batches.
    pub make: MakeDecoder,
    /// How to skip a header in a file's first split.
    pub skip_header: Option<SkipHeader>,
}

impl TextScan {
    /// The RDD of the scan.
    pub fn into_rdd(self, ctx: &SessionContext, request: &ScanRequest, schema: SchemaRef) -> Rdd<RecordBatch> {
        let sizes: Vec<u64> = self.listing.files.iter().map(|f| f.size).collect();
        let splits = plan_splits(&sizes, request.target_partitions, self.splittable);
        ScanMetrics::add(&request.metrics.row_groups_total, splits.len() as u64);
        let name = format!("{}_scan", self.format.to_ascii_lowercase());
        let (limit, batch_size, metrics) = (request.limit, request.batch_size, Arc::clone(&request.metrics));
        let num_partitions = splits.len().max(1);
        GeneratorRdd::create(&ctx.state, &name, num_partitions, move |i, tc| {
            let Some(&split) = splits.get(i) else {
                return Ok(Box::new(std::iter::empty()) as BoxIter<RecordBatch>);
            };
            let file = &self.listing.files[split.file];
            let data = read_split(&tc.session, &self.listing.store, &file.location, file.size, split)?;
            ScanMetrics::add(&metrics.row_groups_read, 1);
            ScanMetrics::add(&metrics.bytes_read, data.bytes.len() as u64);
            let start = match (&self.skip_header, split.start) {
                (Some(skip), 0) => skip(&data.bytes)?,
                _ => 0,
            };
            let session = Arc::clone(&tc.session);
            let make = Arc::clone(&self.make);
            let mut decoder = SplitDecoder::new(session, self.format, data, start, batch_size, make)?;
            Ok(scan_iter(
                tc,
                Arc::clone(&schema),
                limit,
                Arc::clone(&metrics),
                move || decoder.next_batch(),
            ))
        })
    }
}

fn bytecount(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Line breaks in the first `end` bytes of an object.
fn count_newlines(session: &SessionState, store: &Arc<dyn ObjectStore>, path: &StorePath, end: u64) -> Result<u64> {
    let mut n = 0;
    let mut pos = 0;
    while pos < end {
        let next = (pos + CHUNK).min(end);
        n += bytecount(&io::read_range(session, store, path, pos..next)?);
        pos = next;
    }
    Ok(n)
}

/// Removes the line numbers Arrow puts in its messages, which count from
/// where its decoder started rather than from the start of the file.
fn strip_relative_line(err: ArrowError) -> ArrowError {
    fn strip(msg: String) -> String {
        let mut out = msg;
        for marker in [" at line ", " for line "] {
            while let Some(i) = out.find(marker) {
                let digits = out[i + marker.len()..].bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    break;
                }
                out.replace_range(i..i + marker.len() + digits, "");
            }
        }
        out
    }
    match err {
        ArrowError::ParseError(m) => ArrowError::ParseError(strip(m)),
        ArrowError::CsvError(m) => ArrowError::CsvError(strip(m)),
        ArrowError::JsonError(m) => ArrowError::JsonError(strip(m)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionContext;

    #[test]
    fn plans_splits_by_size() {
        let s = plan_splits(&[10, 0, 5], 3, true);
        let ranges: Vec<_> = s.iter().map(|s| (s.file, s.start, s.end)).collect();
        assert_eq!(ranges, vec![(0, 0, 5), (0, 5, 10), (2, 0, 5)]);
        let whole = plan_splits(&[10, 0, 5], 3, false);
        assert_eq!(whole.len(), 2);
        assert!(plan_splits(&[], 4, true).is_empty());
    }

    #[test]
    fn every_line_lands_in_exactly_one_split() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let text: String = (0..200).map(|i| format!("{i}{}\n", "x".repeat(i % 13))).collect();
        std::fs::write(&path, &text).unwrap();
        let ctx = SessionContext::new();
        let loc = io::resolve(path.to_str().unwrap()).unwrap();
        let size = text.len() as u64;
        for parts in [1, 2, 7, 50, 5000] {
            let mut all = Vec::new();
            for split in plan_splits(&[size], parts, true) {
                let data = read_split(&ctx.state, &loc.store, &loc.path, size, split).unwrap();
                assert_eq!(
                    &text.as_bytes()[data.offset as usize..][..data.bytes.len()],
                    &data.bytes[..]
                );
                all.extend(data.bytes);
            }
            assert_eq!(String::from_utf8(all).unwrap(), text, "{parts} partitions");
        }
    }

    #[test]
    fn strips_arrow_line_numbers() {
        let e = strip_relative_line(ArrowError::ParseError("bad 'x' for column 0 at line 3. Row".into()));
        assert_eq!(e.to_string(), "Parser error: bad 'x' for column 0. Row");
        let e = strip_relative_line(ArrowError::CsvError(
            "incorrect number of fields for line 1, expected".into(),
        ));
        assert_eq!(e.to_string(), "Csv error: incorrect number of fields, expected");
    }
}
