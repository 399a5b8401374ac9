//! Object bytes on local disk, with the write protocol that makes an
//! acknowledged write durable and a crash never expose a partial blob:
//! write to `tmp/`, fsync the file, rename into `blobs/`, fsync the directory.
//! Only then may the caller commit metadata that references the blob.
//!
//! Blob ids are random; file names never derive from object keys. This crate
//! knows nothing of S3 or encryption: it stores opaque (already encrypted)
//! bytes.
#![deny(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use tokio::fs::{self, File};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob storage I/O error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("random number generator failed")]
    Random,
}

pub type Result<T> = std::result::Result<T, BlobError>;

impl BlobError {
    /// The file system ran out of space (or the user's quota): the write
    /// failed for want of room, not because of the data or the disk's health.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, Self::Io { source, .. }
            if matches!(source.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded))
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The blob directory tree under the data dir.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens the store under `root`, creating `blobs/`, its 256 shard
    /// directories and `tmp/`, and deletes leftover temporary files from
    /// writes that never committed.
    pub async fn open(root: &Path) -> Result<Self> {
        let store = Self {
            root: root.to_path_buf(),
        };
        for dir in [store.blobs_dir(), store.tmp_dir()] {
            fs::create_dir_all(&dir).await.map_err(io_err(&dir))?;
        }
        let shards = store.clone();
        blocking(move || shards.create_shards()).await?;
        store.clean_tmp().await?;
        Ok(store)
    }

    /// Creates every shard directory up front and makes their entries durable
    /// (fsync of `blobs/` and of the data dir). A commit fsyncs only the
    /// shard directory it renames into; a shard created by that commit would
    /// have an entry in `blobs/` that no fsync covered, and a power loss
    /// could take the acknowledged blob with it.
    fn create_shards(&self) -> Result<()> {
        let blobs = self.blobs_dir();
        for n in 0..=255u8 {
            let shard = blobs.join(format!("{n:02x}"));
            match std::fs::create_dir(&shard) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(io_err(&shard)(e)),
                _ => {}
            }
        }
        for dir in [blobs.as_path(), self.root.as_path()] {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io_err(dir))?;
        }
        Ok(())
    }

    /// The store under `root` as it is: nothing created, nothing cleaned
    /// (for offline checks, which must see what a crash left).
    pub fn at(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the blob `id` lives: `blobs/<first two hex chars>/<id>`.
    pub fn path_of(&self, id: &str) -> PathBuf {
        let shard = id.get(..2).unwrap_or("00");
        self.blobs_dir().join(shard).join(id)
    }

    /// Starts a new blob; bytes go to a temporary file until [`BlobWriter::commit`].
    /// Blocking: the writer is meant to live on a blocking thread.
    pub fn create(&self) -> Result<BlobWriter> {
        let id = new_id()?;
        let tmp = self.tmp_dir().join(format!("{id}.tmp"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        Ok(BlobWriter {
            id,
            tmp,
            file: Some(file),
            dest: None,
            store: self.clone(),
            unflushed: 0,
            flusher: None,
        })
    }

    /// Opens a committed blob for reading.
    pub async fn open_blob(&self, id: &str) -> Result<File> {
        let path = self.path_of(id);
        File::open(&path).await.map_err(io_err(&path))
    }

    /// Removes a blob that no committed metadata references any more.
    /// Missing files are fine (the removal may be a retry).
    pub async fn remove(&self, id: &str) {
        let path = self.path_of(id);
        match fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(blob = id, error = %e, "could not remove blob"),
        }
    }

    async fn clean_tmp(&self) -> Result<()> {
        let dir = self.tmp_dir();
        let mut entries = fs::read_dir(&dir).await.map_err(io_err(&dir))?;
        while let Some(entry) = entries.next_entry().await.map_err(io_err(&dir))? {
            let path = entry.path();
            fs::remove_file(&path).await.map_err(io_err(&path))?;
        }
        Ok(())
    }

    /// Deletes committed blobs that `referenced` does not name: left behind by
    /// a crash between the rename and the metadata commit, or between a
    /// metadata commit and the removal of the blobs it replaced.
    pub async fn collect_garbage(&self, referenced: &HashSet<String>) -> Result<usize> {
        let mut removed = 0;
        let blobs = self.blobs_dir();
        let mut shards = fs::read_dir(&blobs).await.map_err(io_err(&blobs))?;
        while let Some(shard) = shards.next_entry().await.map_err(io_err(&blobs))? {
            let shard_path = shard.path();
            let mut files = fs::read_dir(&shard_path).await.map_err(io_err(&shard_path))?;
            while let Some(f) = files.next_entry().await.map_err(io_err(&shard_path))? {
                let name = f.file_name().to_string_lossy().into_owned();
                if !referenced.contains(&name) {
                    let p = f.path();
                    fs::remove_file(&p).await.map_err(io_err(&p))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// What lies in the blob directories, for an offline check (`strongbox
/// admin fsck`): every file in `blobs/` and every file in `tmp/`.
#[derive(Debug, Default)]
pub struct Inventory {
    pub blobs: Vec<BlobFile>,
    pub temp: Vec<PathBuf>,
}

/// A file found in `blobs/`.
#[derive(Debug, Clone)]
pub struct BlobFile {
    /// The file name: the blob id, if the file is one.
    pub name: String,
    pub path: PathBuf,
    pub len: u64,
    /// Whether the file sits where [`BlobStore::path_of`] looks for its name.
    pub in_place: bool,
}

impl BlobFile {
    /// The first `n` bytes (fewer if the file is shorter); blocking.
    pub fn head(&self, n: usize) -> Result<Vec<u8>> {
        use std::io::Read;
        let file = std::fs::File::open(&self.path).map_err(io_err(&self.path))?;
        let mut buf = Vec::with_capacity(n);
        file.take(n as u64).read_to_end(&mut buf).map_err(io_err(&self.path))?;
        Ok(buf)
    }
}

impl BlobStore {
    /// Lists `blobs/` and `tmp/` without changing anything; blocking. A
    /// directory that does not exist is empty.
    pub fn inventory(&self) -> Result<Inventory> {
        let mut inv = Inventory::default();
        for shard in read_dir_or_empty(&self.blobs_dir())? {
            if !shard.is_dir() {
                inv.blobs.push(self.blob_file(shard)?);
                continue;
            }
            for path in read_dir_or_empty(&shard)? {
                inv.blobs.push(self.blob_file(path)?);
            }
        }
        inv.temp = read_dir_or_empty(&self.tmp_dir())?;
        Ok(inv)
    }

    fn blob_file(&self, path: PathBuf) -> Result<BlobFile> {
        let len = std::fs::symlink_metadata(&path).map_err(io_err(&path))?.len();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let in_place = self.path_of(&name) == path;
        Ok(BlobFile {
            name,
            path,
            len,
            in_place,
        })
    }

    /// Deletes a file that [`BlobStore::inventory`] found and no metadata
    /// references (a stray blob or a temporary file); blocking. Refuses a
    /// path outside `blobs/` and `tmp/`.
    pub fn remove_stray(&self, path: &Path) -> Result<()> {
        let inside = path.starts_with(self.blobs_dir()) || path.starts_with(self.tmp_dir());
        if !inside {
            return Err(BlobError::Io {
                path: path.to_path_buf(),
                source: io::Error::other("not in the blob store"),
            });
        }
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(path)(e)),
            _ => Ok(()),
        }
    }
}

fn read_dir_or_empty(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut paths = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(io_err(dir))?;
    paths.sort();
    Ok(paths)
}

/// A new random blob id (32 hex characters). Inline objects, whose bytes
/// live in the metadata store, take their ids from the same space.
pub fn new_id() -> Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| BlobError::Random)?;
    Ok(strongbox_types::random_hex(&bytes))
}

/// Bytes written between background flushes of a large blob.
const FLUSH_EVERY: u64 = 8 << 20;

/// A blob being written. Dropping it without `commit` deletes the temporary
/// file, so an aborted or failed upload leaves nothing behind. Writes are
/// blocking (the writer lives on a blocking thread for the whole upload, so
/// bytes go straight to the kernel without another copy or thread hop).
///
/// A large blob is flushed to disk in the background while it is written
/// (every [`FLUSH_EVERY`] bytes), so the fsync that makes it durable at
/// commit finds little left to do: the disk works while the bytes stream in
/// instead of after (an fsync of 64 MiB takes 100-300 ms here).
pub struct BlobWriter {
    id: String,
    tmp: PathBuf,
    file: Option<std::fs::File>,
    dest: Option<PathBuf>,
    store: BlobStore,
    unflushed: u64,
    flusher: Option<Flusher>,
}

/// A thread that runs `fdatasync` on a blob when kicked.
struct Flusher {
    kick: std::sync::mpsc::SyncSender<()>,
    done: std::thread::JoinHandle<io::Result<()>>,
}

impl Flusher {
    fn start(file: std::fs::File) -> io::Result<Self> {
        // One pending kick is enough: a flush that has yet to start covers every byte written before it.
        let (kick, kicks) = std::sync::mpsc::sync_channel::<()>(1);
        let done = std::thread::Builder::new().name("blob-flush".into()).spawn(move || {
            while kicks.recv().is_ok() {
                file.sync_data()?;
            }
            Ok(())
        })?;
        Ok(Flusher { kick, done })
    }

    /// Waits for the flushes in flight; returns the first failure.
    fn finish(self) -> io::Result<()> {
        drop(self.kick);
        self.done
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("blob flush thread panicked")))
    }
}

impl BlobWriter {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Appends `bytes`; blocking.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let Some(file) = self.file.as_mut() else {
            return Err(already_committed(&self.tmp));
        };
        file.write_all(bytes).map_err(io_err(&self.tmp))?;
        self.unflushed += bytes.len() as u64;
        if self.unflushed >= FLUSH_EVERY {
            self.unflushed = 0;
            if self.flusher.is_none() {
                let clone = file.try_clone().map_err(io_err(&self.tmp))?;
                self.flusher = Some(Flusher::start(clone).map_err(io_err(&self.tmp))?);
            }
            if let Some(f) = &self.flusher {
                // Full: a flush is already queued and will cover these bytes.
                let _ = f.kick.try_send(());
            }
        }
        Ok(())
    }

    /// fsync, rename into place, fsync the directory. After this returns the
    /// blob survives a crash; the caller then commits metadata.
    pub async fn commit(self) -> Result<String> {
        blocking(move || self.commit_blocking()).await
    }

    /// [`BlobWriter::commit`] for callers already on a blocking thread.
    pub fn commit_blocking(mut self) -> Result<String> {
        let Some(file) = self.file.take() else {
            return Err(already_committed(&self.tmp));
        };
        if let Some(flusher) = self.flusher.take() {
            flusher.finish().map_err(io_err(&self.tmp))?;
        }
        file.sync_all().map_err(io_err(&self.tmp))?;
        drop(file);
        let dest = self.store.path_of(&self.id);
        let shard = dest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.store.blobs_dir());
        std::fs::create_dir_all(&shard).map_err(io_err(&shard))?;
        std::fs::rename(&self.tmp, &dest).map_err(io_err(&dest))?;
        self.dest = Some(dest);
        std::fs::File::open(&shard)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&shard))?;
        Ok(self.id.clone())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.dest.is_none() {
            // Best effort: a leftover is also removed at the next start.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn already_committed(tmp: &Path) -> BlobError {
    BlobError::Io {
        path: tmp.to_path_buf(),
        source: io::Error::other("blob already committed"),
    }
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f).await.map_err(|e| BlobError::Io {
        path: PathBuf::new(),
        source: io::Error::other(e.to_string()),
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn committed_blob_is_readable_and_uncommitted_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let mut w = store.create().unwrap();
        w.write_all(b"hello").unwrap();
        let id = w.commit().await.unwrap();
        let mut s = String::new();
        store
            .open_blob(&id)
            .await
            .unwrap()
            .read_to_string(&mut s)
            .await
            .unwrap();
        assert_eq!(s, "hello");

        let mut w = store.create().unwrap();
        w.write_all(b"partial").unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    /// A commit fsyncs only its shard directory, so every shard must exist
    /// (durably) before the first commit: none may be created by one.
    #[tokio::test]
    async fn open_creates_every_shard_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let shards = std::fs::read_dir(dir.path().join("blobs")).unwrap().count();
        assert_eq!(shards, 256);
        let id = new_id().unwrap();
        assert!(store.path_of(&id).parent().unwrap().is_dir());
        BlobStore::open(dir.path()).await.unwrap();
    }

    #[tokio::test]
    async fn restart_cleans_tmp_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        std::fs::write(dir.path().join("tmp/left.tmp"), b"x").unwrap();
        let mut keep = store.create().unwrap();
        keep.write_all(b"k").unwrap();
        let keep = keep.commit().await.unwrap();
        let mut orphan = store.create().unwrap();
        orphan.write_all(b"o").unwrap();
        let orphan = orphan.commit().await.unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        let removed = store.collect_garbage(&HashSet::from([keep.clone()])).await.unwrap();
        assert_eq!(removed, 1);
        assert!(store.path_of(&keep).exists() && !store.path_of(&orphan).exists());
    }
}
