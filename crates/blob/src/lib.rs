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
use tokio::fs::{self, File, OpenOptions};
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob storage I/O error on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("random number generator failed")]
    Random,
}

pub type Result<T> = std::result::Result<T, BlobError>;

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
    /// Opens the store under `root`, creating `blobs/` and `tmp/`, and deletes
    /// leftover temporary files from writes that never committed.
    pub async fn open(root: &Path) -> Result<Self> {
        let store = Self {
            root: root.to_path_buf(),
        };
        for dir in [store.blobs_dir(), store.tmp_dir()] {
            fs::create_dir_all(&dir).await.map_err(io_err(&dir))?;
        }
        store.clean_tmp().await?;
        Ok(store)
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
    pub async fn create(&self) -> Result<BlobWriter> {
        let id = new_id()?;
        let tmp = self.tmp_dir().join(format!("{id}.tmp"));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await
            .map_err(io_err(&tmp))?;
        Ok(BlobWriter {
            id,
            tmp,
            file: Some(file),
            dest: None,
            store: self.clone(),
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

fn new_id() -> Result<String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| BlobError::Random)?;
    Ok(strongbox_types::random_hex(&bytes))
}

/// A blob being written. Dropping it without `commit` deletes the temporary
/// file, so an aborted or failed upload leaves nothing behind.
pub struct BlobWriter {
    id: String,
    tmp: PathBuf,
    file: Option<File>,
    dest: Option<PathBuf>,
    store: BlobStore,
}

impl BlobWriter {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let tmp = self.tmp.clone();
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes).await.map_err(io_err(&tmp)),
            None => Err(BlobError::Io {
                path: tmp,
                source: io::Error::other("blob already committed"),
            }),
        }
    }

    /// fsync, rename into place, fsync the directory. After this returns the
    /// blob survives a crash; the caller then commits metadata.
    pub async fn commit(mut self) -> Result<String> {
        let tmp = self.tmp.clone();
        let Some(mut file) = self.file.take() else {
            return Err(BlobError::Io {
                path: tmp,
                source: io::Error::other("blob already committed"),
            });
        };
        file.flush().await.map_err(io_err(&tmp))?;
        file.sync_all().await.map_err(io_err(&tmp))?;
        drop(file);
        let dest = self.store.path_of(&self.id);
        let shard = dest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.store.blobs_dir());
        fs::create_dir_all(&shard).await.map_err(io_err(&shard))?;
        fs::rename(&tmp, &dest).await.map_err(io_err(&dest))?;
        self.dest = Some(dest);
        sync_dir(&shard).await?;
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

async fn sync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).await.map_err(io_err(dir))?;
    d.sync_all().await.map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn committed_blob_is_readable_and_uncommitted_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let mut w = store.create().await.unwrap();
        w.write_all(b"hello").await.unwrap();
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

        let mut w = store.create().await.unwrap();
        w.write_all(b"partial").await.unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn restart_cleans_tmp_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        std::fs::write(dir.path().join("tmp/left.tmp"), b"x").unwrap();
        let mut keep = store.create().await.unwrap();
        keep.write_all(b"k").await.unwrap();
        let keep = keep.commit().await.unwrap();
        let mut orphan = store.create().await.unwrap();
        orphan.write_all(b"o").await.unwrap();
        let orphan = orphan.commit().await.unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        let removed = store.collect_garbage(&HashSet::from([keep.clone()])).await.unwrap();
        assert_eq!(removed, 1);
        assert!(store.path_of(&keep).exists() && !store.path_of(&orphan).exists());
    }
}
