//! File access through `object_store`: resolving user paths, listing the
//! files behind a path, reading ranges and writing objects. Every read and
//! write of a file in Flint goes through here.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::error::{Error, Result, ResultExt};
use crate::session::SessionState;

/// A user-given path resolved to an object store and a path inside it.
#[derive(Clone)]
pub(crate) struct Location {
    pub store: Arc<dyn ObjectStore>,
    pub path: StorePath,
    /// The path as the user wrote it, for error messages.
    pub display: String,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

/// Resolves a local path or `file://` URL.
pub(crate) fn resolve(path: &str) -> Result<Location> {
    let local = if let Some(rest) = path.strip_prefix("file://") {
        std::path::PathBuf::from(rest)
    } else if let Some((scheme, _)) = path.split_once("://") {
        return Err(Error::NotSupported(format!(
            "paths with scheme '{scheme}://' ('{path}'); only local files are supported"
        )));
    } else {
        std::path::PathBuf::from(path)
    };
    let abs = std::path::absolute(&local).with_context(|| format!("invalid path '{path}'"))?;
    let store_path = StorePath::from_absolute_path(&abs)
        .map_err(|e| Error::InvalidArgument(format!("invalid path '{path}': {e}")))?;
    Ok(Location {
        store: Arc::new(LocalFileSystem::new().with_automatic_cleanup(true)),
        path: store_path,
        display: path.to_string(),
    })
}

/// Hidden and bookkeeping files (`_SUCCESS`, `.crc`, `_temporary`) are not
/// data, as in Hadoop.
pub(crate) fn is_hidden(path: &StorePath) -> bool {
    path.parts().any(|p| {
        let s = p.as_ref();
        s.starts_with('_') || s.starts_with('.')
    })
}

/// The files behind a location: the file itself, or every data file below a
/// directory, sorted by path.
pub(crate) fn list_files(session: &SessionState, loc: &Location) -> Result<Vec<ObjectMeta>> {
    let store = Arc::clone(&loc.store);
    let path = loc.path.clone();
    session
        .block_on(async move {
            if let Ok(meta) = store.head(&path).await {
                return Ok(vec![meta]);
            }
            let mut files: Vec<ObjectMeta> = store.list(Some(&path)).try_collect().await?;
            files.retain(|m| {
                let rel = m.location.prefix_match(&path).map(|parts| parts.collect::<Vec<_>>());
                !is_hidden(&StorePath::from_iter(rel.unwrap_or_default()))
            });
            files.sort_by(|a, b| a.location.cmp(&b.location));
            Ok::<_, object_store::Error>(files)
        })?
        .map_err(Error::from)
        .and_then(|files| {
            if files.is_empty() {
                Err(Error::InvalidArgument(format!(
                    "no such file or directory: '{}'",
                    loc.display
                )))
            } else {
                Ok(files)
            }
        })
}

/// Reads bytes `range` of an object.
pub(crate) fn read_range(
    session: &SessionState,
    store: &Arc<dyn ObjectStore>,
    path: &StorePath,
    range: std::ops::Range<u64>,
) -> Result<Bytes> {
    let store = Arc::clone(store);
    let p = path.clone();
    session
        .block_on(async move { get_range(store.as_ref(), &p, range).await })?
        .with_context(|| format!("reading '{path}'"))
}

/// Bytes `range` of an object, read as [`get_ranges`] reads them.
async fn get_range(store: &dyn ObjectStore, location: &StorePath, range: Range<u64>) -> object_store::Result<Bytes> {
    let mut parts = get_ranges(store, location, std::slice::from_ref(&range)).await?;
    Ok(parts.pop().unwrap_or_default())
}

/// Byte `ranges` of an object, as [`ObjectStore::get_ranges`] returns
/// them; every read of a file's bytes comes here. The local store hands
/// over the open file instead
/// ([`GetResultPayload::File`]), whose ranges are read here into buffers
/// that are not zeroed first: the store's own `get_ranges` zeroes every
/// buffer before reading into it, on its I/O thread, which took 6% of a
/// TPC-H join's CPU time. Other stores read as they do.
pub(crate) async fn get_ranges(
    store: &dyn ObjectStore,
    location: &StorePath,
    ranges: &[Range<u64>],
) -> object_store::Result<Vec<Bytes>> {
    let wanted = || ranges.iter().filter(|r| r.start < r.end);
    if wanted().next().is_none() {
        // Nothing to read (a store may refuse an empty range).
        return Ok(vec![Bytes::new(); ranges.len()]);
    }
    let span = wanted().map(|r| r.start).min().zip(wanted().map(|r| r.end).max());
    let Some((start, end)) = span.filter(|_| is_local(store)) else {
        return store.get_ranges(location, ranges).await;
    };
    let options = GetOptions {
        range: Some(GetRange::Bounded(start..end)),
        ..Default::default()
    };
    match store.get_opts(location, options).await?.payload {
        GetResultPayload::File(file, path) => {
            read_file_ranges(&file, ranges).map_err(|e| object_store::Error::Generic {
                store: "LocalFileSystem",
                source: format!("reading {}: {e}", path.display()).into(),
            })
        }
        GetResultPayload::Stream(_) => store.get_ranges(location, ranges).await,
    }
}

/// Whether `store` is the local file system, whose reads return the file
/// itself (it has no other way to tell).
fn is_local(store: &dyn ObjectStore) -> bool {
    store.to_string().starts_with("LocalFileSystem")
}

fn read_file_ranges(mut file: &std::fs::File, ranges: &[Range<u64>]) -> std::io::Result<Vec<Bytes>> {
    use std::io::{Read, Seek, SeekFrom};
    ranges
        .iter()
        .map(|r| {
            let len = r.end.saturating_sub(r.start);
            let mut buf = Vec::with_capacity(usize::try_from(len).map_err(std::io::Error::other)?);
            file.seek(SeekFrom::Start(r.start))?;
            file.take(len).read_to_end(&mut buf)?;
            if (buf.len() as u64) < len {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("bytes {}..{} lie past the end of the file", r.start, r.end),
                ));
            }
            Ok(Bytes::from(buf))
        })
        .collect()
}

/// Writes an object (atomically: the local store writes a temporary file
/// and renames it).
pub(crate) fn put(session: &SessionState, store: &Arc<dyn ObjectStore>, path: &StorePath, data: Vec<u8>) -> Result<()> {
    let store = Arc::clone(store);
    let p = path.clone();
    session
        .block_on(async move { store.put(&p, PutPayload::from(data)).await })?
        .with_context(|| format!("writing '{path}'"))?;
    Ok(())
}

/// Renames an object.
pub(crate) fn rename(
    session: &SessionState,
    store: &Arc<dyn ObjectStore>,
    from: &StorePath,
    to: &StorePath,
) -> Result<()> {
    let store = Arc::clone(store);
    let (f, t) = (from.clone(), to.clone());
    session
        .block_on(async move { store.rename(&f, &t).await })?
        .with_context(|| format!("renaming '{from}' to '{to}'"))
}

/// Every object below a prefix (hidden ones included).
pub(crate) fn list_all(
    session: &SessionState,
    store: &Arc<dyn ObjectStore>,
    prefix: &StorePath,
) -> Result<Vec<ObjectMeta>> {
    let store = Arc::clone(store);
    let p = prefix.clone();
    session
        .block_on(async move { store.list(Some(&p)).try_collect::<Vec<_>>().await })?
        .with_context(|| format!("listing '{prefix}'"))
}

/// Deletes one object.
pub(crate) fn delete(session: &SessionState, store: &Arc<dyn ObjectStore>, path: &StorePath) -> Result<()> {
    let store = Arc::clone(store);
    let p = path.clone();
    session
        .block_on(async move { store.delete(&p).await })?
        .with_context(|| format!("deleting '{path}'"))
}

/// Deletes every object below a prefix.
pub(crate) fn delete_all(session: &SessionState, store: &Arc<dyn ObjectStore>, prefix: &StorePath) -> Result<()> {
    for meta in list_all(session, store, prefix)? {
        delete(session, store, &meta.location)?;
    }
    Ok(())
}

/// A [`std::io::Read`] over one object, fetching each `read` call's bytes
/// with a range request (wrap it in a `BufReader` to read in big chunks).
/// Lets synchronous parsers such as Arrow's schema inference read through
/// `object_store`.
pub(crate) struct ObjectReader<'a> {
    session: &'a SessionState,
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    pos: u64,
    size: u64,
}

impl<'a> ObjectReader<'a> {
    /// Reads object `path` of `size` bytes from its start.
    pub fn new(session: &'a SessionState, store: &Arc<dyn ObjectStore>, path: &StorePath, size: u64) -> Self {
        Self {
            session,
            store: Arc::clone(store),
            path: path.clone(),
            pos: 0,
            size,
        }
    }
}

impl std::io::Read for ObjectReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let end = self.size.min(self.pos + buf.len() as u64);
        let bytes = read_range(self.session, &self.store, &self.path, self.pos..end).map_err(std::io::Error::other)?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

/// Counts bytes read (e.g. into a scan's metrics).
pub(crate) type CountBytes = Arc<dyn Fn(u64) + Send + Sync>;

/// Bytes fetched from a Parquet file's end when reading its footer, so that
/// most footers take one request.
const PARQUET_FOOTER_HINT: usize = 64 << 10;

/// One Parquet file as Parquet's async reader sees it: byte ranges fetched
/// through `object_store`, optionally counted.
pub(crate) struct ParquetObject {
    store: Arc<dyn ObjectStore>,
    meta: ObjectMeta,
    count: Option<CountBytes>,
}

impl ParquetObject {
    /// Reads the object `meta` describes.
    pub fn new(store: &Arc<dyn ObjectStore>, meta: &ObjectMeta, count: Option<CountBytes>) -> Self {
        Self {
            store: Arc::clone(store),
            meta: meta.clone(),
            count,
        }
    }

    fn counted(&self, n: u64) {
        if let Some(count) = &self.count {
            count(n);
        }
    }
}

impl AsyncFileReader for ParquetObject {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            let bytes = get_range(self.store.as_ref(), &self.meta.location, range).await?;
            self.counted(bytes.len() as u64);
            Ok(bytes)
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            let parts = get_ranges(self.store.as_ref(), &self.meta.location, &ranges).await?;
            self.counted(parts.iter().map(|b| b.len() as u64).sum());
            Ok(parts)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.meta.size;
            let metadata = ParquetMetaDataReader::new()
                .with_metadata_options(options.map(|o| o.metadata_options().clone()))
                .with_prefetch_hint(Some(PARQUET_FOOTER_HINT))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    #[test]
    fn ranges_of_a_local_file_and_of_another_store_read_alike() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        std::fs::write(dir.path().join("f.bin"), &data).unwrap();
        let local = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
        let memory = InMemory::new();
        let path = StorePath::from("f.bin");
        let ranges = [5000..5010, 0..3, 9990..10_000];
        let rt = tokio::runtime::Runtime::new().unwrap();
        // An empty range reads nothing, as the store's own read of one did.
        let empty = rt
            .block_on(get_ranges(&local, &path, std::slice::from_ref(&(7..7))))
            .unwrap();
        assert_eq!(empty, vec![Bytes::new()]);
        rt.block_on(memory.put(&path, data.clone().into())).unwrap();
        for store in [&local as &dyn ObjectStore, &memory] {
            let got = rt.block_on(get_ranges(store, &path, &ranges)).unwrap();
            let want: Vec<Bytes> = ranges
                .iter()
                .map(|r| Bytes::copy_from_slice(&data[r.start as usize..r.end as usize]))
                .collect();
            assert_eq!(got, want, "{store}");
        }
        // Past the end (a footer that lies about its columns) is an error.
        let err = rt
            .block_on(get_ranges(&local, &path, std::slice::from_ref(&(9990..10_010))))
            .unwrap_err();
        assert!(
            err.to_string().contains("10010") || err.to_string().contains("range"),
            "{err}"
        );
    }
}
