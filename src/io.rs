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
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
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
        .block_on(async move { store.get_range(&p, range).await })?
        .with_context(|| format!("reading '{path}'"))
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
            let bytes = self.store.get_range(&self.meta.location, range).await?;
            self.counted(bytes.len() as u64);
            Ok(bytes)
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            let parts = self.store.get_ranges(&self.meta.location, &ranges).await?;
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
