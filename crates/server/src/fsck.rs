//! `strongbox admin fsck`: checks, with the server stopped, that the
//! metadata and the stored bytes agree, without any key (nothing is
//! decrypted):
//! - every object segment and multipart part has its bytes: a blob file at
//!   `blobs/<shard>/<id>` or, for inline objects, an `object_data` row;
//! - those bytes have a valid encrypted-blob header (magic, version,
//!   algorithm, chunk size), as many layers as the record's scheme needs,
//!   and exactly the length the chunk layout gives for the recorded size;
//! - no blob file, temporary file or `object_data` row is unreferenced, and
//!   no blob file is referenced twice (deleting one owner would free the
//!   other's bytes).
//!
//! `--repair` fixes only what is safe: it deletes unreferenced blob files,
//! temporary files and orphan inline rows (garbage by definition: nothing
//! can read them; a server start deletes the first two anyway). A record
//! whose bytes are missing or corrupt is reported and kept: deleting it
//! would turn a detectable loss into a silent one, and the bytes may still
//! be recoverable from a backup or a misplaced file.
use crate::ServerError;
use crate::rotate::lock_data_dir;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use strongbox_blob::{BlobFile, BlobStore, Inventory};
use strongbox_crypto::{HEADER_LEN, Layout, MAX_CHUNKS, chunk_count, header_layout};
use strongbox_meta::SqliteStore;
use strongbox_meta::fsck::{MetaInventory, StoredRef};

/// What kind of disagreement fsck found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemKind {
    /// A record's blob file does not exist.
    MissingBlob,
    /// An inline record's `object_data` row does not exist.
    MissingInline,
    /// A blob file's header or length is invalid for its record.
    CorruptBlob,
    /// An inline row's header or length is invalid for its record.
    CorruptInline,
    /// A referenced blob's file exists, but not where the store looks for it.
    MisplacedBlob,
    /// Two records name the same blob file.
    SharedBlob,
    /// A metadata record that does not parse.
    UnreadableRecord,
    /// A blob file no record references (repairable).
    UnreferencedBlob,
    /// A file in `tmp/` (repairable).
    TempFile,
    /// An `object_data` row no record references (repairable).
    OrphanInline,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 10] = [
        ProblemKind::MissingBlob,
        ProblemKind::MissingInline,
        ProblemKind::CorruptBlob,
        ProblemKind::CorruptInline,
        ProblemKind::MisplacedBlob,
        ProblemKind::SharedBlob,
        ProblemKind::UnreadableRecord,
        ProblemKind::UnreferencedBlob,
        ProblemKind::TempFile,
        ProblemKind::OrphanInline,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::MissingBlob => "missing_blob",
            ProblemKind::MissingInline => "missing_inline",
            ProblemKind::CorruptBlob => "corrupt_blob",
            ProblemKind::CorruptInline => "corrupt_inline",
            ProblemKind::MisplacedBlob => "misplaced_blob",
            ProblemKind::SharedBlob => "shared_blob",
            ProblemKind::UnreadableRecord => "unreadable_record",
            ProblemKind::UnreferencedBlob => "unreferenced_blob",
            ProblemKind::TempFile => "temp_file",
            ProblemKind::OrphanInline => "orphan_inline",
        }
    }

    /// Whether `--repair` may fix it: only garbage nothing can read.
    pub fn repairable(self) -> bool {
        matches!(
            self,
            ProblemKind::UnreferencedBlob | ProblemKind::TempFile | ProblemKind::OrphanInline
        )
    }
}

/// What a repair would remove.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Garbage {
    File(PathBuf),
    InlineRow(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub detail: String,
    garbage: Option<Garbage>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.detail)
    }
}

/// The outcome of a check (and repair).
#[derive(Debug, Clone, Default)]
pub struct FsckReport {
    pub objects: u64,
    pub parts: u64,
    pub blob_files: u64,
    pub inline_rows: u64,
    pub temp_files: u64,
    /// Problems not repaired.
    pub problems: Vec<Problem>,
    pub repaired: Vec<Problem>,
    /// Why a requested repair did not run, if it did not.
    pub repair_skipped: Option<String>,
}

impl FsckReport {
    /// Remaining problems of `kind`.
    pub fn count(&self, kind: ProblemKind) -> usize {
        self.problems.iter().filter(|p| p.kind == kind).count()
    }

    pub fn repaired_count(&self, kind: ProblemKind) -> usize {
        self.repaired.iter().filter(|p| p.kind == kind).count()
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks (and with `repair`, cleans) the stopped server's `data_dir`.
/// Refuses while a server (or a rotation) holds the data directory lock.
pub async fn fsck(data_dir: &Path, repair: bool) -> Result<FsckReport, ServerError> {
    let db = data_dir.join("meta.db");
    if !db.exists() {
        return Err(ServerError::Config(format!(
            "{} has no Strongbox data: pass --data-dir",
            data_dir.display()
        )));
    }
    let _lock = lock_data_dir(data_dir)?;
    let meta = SqliteStore::open(&db).map_err(meta_err)?;
    let inv = meta.fsck_inventory().await.map_err(meta_err)?;
    let blobs = BlobStore::at(data_dir);
    let scan = {
        let blobs = blobs.clone();
        blocking(move || {
            let files = blobs.inventory().map_err(blob_err)?;
            let heads = read_heads(&files);
            Ok((files, heads))
        })
        .await?
    };
    let (files, heads) = scan;
    let mut report = check(&inv, &files, &heads);
    if repair {
        run_repair(&meta, &blobs, &inv, &mut report).await?;
    }
    Ok(report)
}

/// The first bytes of every file in `blobs/`, or why they could not be read.
type Heads = HashMap<PathBuf, Result<Vec<u8>, String>>;

fn read_heads(files: &Inventory) -> Heads {
    files
        .blobs
        .iter()
        .map(|f| (f.path.clone(), f.head(HEADER_LEN).map_err(|e| e.to_string())))
        .collect()
}

/// Compares the metadata snapshot with the files; reads nothing itself.
pub(crate) fn check(inv: &MetaInventory, files: &Inventory, heads: &Heads) -> FsckReport {
    let mut found = Found::default();
    for u in &inv.unreadable {
        found.add(ProblemKind::UnreadableRecord, u.clone(), None);
    }
    let file_refs = found.file_refs(inv, files, heads);
    let inline_refs = found.inline_refs(inv);
    found.garbage(inv, files, &file_refs, &inline_refs);
    let mut problems = found.0;
    problems.sort_by(|a, b| (a.kind, &a.detail).cmp(&(b.kind, &b.detail)));
    FsckReport {
        objects: inv.objects,
        parts: inv.parts,
        blob_files: files.blobs.len() as u64,
        inline_rows: inv.inline_rows.len() as u64,
        temp_files: files.temp.len() as u64,
        problems,
        ..FsckReport::default()
    }
}

#[derive(Default)]
struct Found(Vec<Problem>);

impl Found {
    fn add(&mut self, kind: ProblemKind, detail: String, garbage: Option<Garbage>) {
        self.0.push(Problem { kind, detail, garbage });
    }

    /// Checks every reference to a blob file; returns the referenced names.
    fn file_refs<'a>(&mut self, inv: &'a MetaInventory, files: &Inventory, heads: &Heads) -> HashSet<&'a str> {
        let in_place: HashMap<&str, &BlobFile> = files
            .blobs
            .iter()
            .filter(|f| f.in_place)
            .map(|f| (f.name.as_str(), f))
            .collect();
        let mut owners: HashMap<&str, &StoredRef> = HashMap::new();
        for r in inv.refs.iter().filter(|r| !r.inline) {
            if let Some(first) = owners.insert(r.blob_id.as_str(), r) {
                let detail = format!("blob {} is named by {} and {}", r.blob_id, first.owner, r.owner);
                self.add(ProblemKind::SharedBlob, detail, None);
            }
            let Some(file) = in_place.get(r.blob_id.as_str()) else {
                self.absent_file(r, files);
                continue;
            };
            let verdict = match heads.get(&file.path) {
                Some(Ok(head)) => validate(head, file.len, r),
                Some(Err(e)) => Err(format!("unreadable: {e}")),
                None => Err("not read".into()),
            };
            if let Err(why) = verdict {
                let detail = format!("{} blob {} ({}): {why}", r.owner, r.blob_id, file.path.display());
                self.add(ProblemKind::CorruptBlob, detail, None);
            }
        }
        owners.into_keys().collect()
    }

    fn absent_file(&mut self, r: &StoredRef, files: &Inventory) {
        match files.blobs.iter().find(|f| !f.in_place && f.name == r.blob_id) {
            Some(f) => {
                let detail = format!("{} blob {} is at {}", r.owner, r.blob_id, f.path.display());
                self.add(ProblemKind::MisplacedBlob, detail, None);
            }
            None => {
                let detail = format!("{} needs blob {}, which does not exist", r.owner, r.blob_id);
                self.add(ProblemKind::MissingBlob, detail, None);
            }
        }
    }

    /// Checks every reference to an inline row; returns the referenced ids.
    fn inline_refs<'a>(&mut self, inv: &'a MetaInventory) -> HashSet<&'a str> {
        let rows: HashMap<&str, _> = inv.inline_rows.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut referenced = HashSet::new();
        for r in inv.refs.iter().filter(|r| r.inline) {
            referenced.insert(r.blob_id.as_str());
            match rows.get(r.blob_id.as_str()) {
                Some(row) => {
                    if let Err(why) = validate(&row.head, row.len, r) {
                        let detail = format!("{} inline data {}: {why}", r.owner, r.blob_id);
                        self.add(ProblemKind::CorruptInline, detail, None);
                    }
                }
                None => {
                    let detail = format!("{} needs inline data {}, which does not exist", r.owner, r.blob_id);
                    self.add(ProblemKind::MissingInline, detail, None);
                }
            }
        }
        referenced
    }

    /// Files and rows nothing references, and temporary files.
    fn garbage(&mut self, inv: &MetaInventory, files: &Inventory, file_refs: &HashSet<&str>, inline: &HashSet<&str>) {
        for f in files.blobs.iter().filter(|f| !file_refs.contains(f.name.as_str())) {
            let detail = format!("{} ({} bytes) is not referenced", f.path.display(), f.len);
            let garbage = Some(Garbage::File(f.path.clone()));
            self.add(ProblemKind::UnreferencedBlob, detail, garbage);
        }
        for t in &files.temp {
            let detail = format!("{} is a leftover temporary file", t.display());
            self.add(ProblemKind::TempFile, detail, Some(Garbage::File(t.clone())));
        }
        for row in inv.inline_rows.iter().filter(|r| !inline.contains(r.id.as_str())) {
            let detail = format!("inline row {} ({} bytes) is not referenced", row.id, row.len);
            let garbage = Some(Garbage::InlineRow(row.id.clone()));
            self.add(ProblemKind::OrphanInline, detail, garbage);
        }
    }
}

/// Checks stored bytes against the record without a key: the header, the
/// layer count the scheme needs, and the exact length of the chunk layout.
fn validate(head: &[u8], len: u64, r: &StoredRef) -> Result<(), String> {
    let header = head
        .get(..HEADER_LEN)
        .ok_or_else(|| format!("{len} bytes, shorter than a header"))?;
    let layout = header_layout(header).map_err(|e| format!("bad header: {e}"))?;
    let wanted = if r.scheme == "aws:kms:dsse" {
        Layout::DUAL
    } else {
        Layout::SINGLE
    };
    if layout != wanted {
        return Err(format!(
            "header announces {} encryption layer(s), scheme {} needs {}",
            layout.layers(),
            r.scheme,
            wanted.layers()
        ));
    }
    let chunks = chunk_count(r.plain_size);
    if chunks >= MAX_CHUNKS {
        return Err(format!("{} plaintext bytes need too many chunks", r.plain_size));
    }
    let expected = layout.blob_len(r.plain_size);
    if len != expected {
        return Err(format!(
            "{len} bytes, but {} plaintext bytes in {chunks} chunk(s) take {expected}",
            r.plain_size
        ));
    }
    Ok(())
}

async fn run_repair(
    meta: &SqliteStore,
    blobs: &BlobStore,
    inv: &MetaInventory,
    report: &mut FsckReport,
) -> Result<(), ServerError> {
    if !inv.unreadable.is_empty() {
        // An unreadable record might reference anything: deleting "garbage" could destroy data.
        report.repair_skipped = Some("some records are unreadable, so nothing is known to be garbage".into());
        return Ok(());
    }
    let (fix, keep): (Vec<Problem>, Vec<Problem>) = std::mem::take(&mut report.problems)
        .into_iter()
        .partition(|p| p.kind.repairable());
    report.problems = keep;
    let mut rows = Vec::new();
    let mut files = Vec::new();
    for p in &fix {
        match &p.garbage {
            Some(Garbage::InlineRow(id)) => rows.push(id.clone()),
            Some(Garbage::File(path)) => files.push(path.clone()),
            None => {}
        }
    }
    let store = blobs.clone();
    let file_results = blocking(move || Ok(files.iter().map(|f| store.remove_stray(f)).collect::<Vec<_>>())).await?;
    let removed_rows: HashSet<String> = meta
        .remove_orphan_inline_rows(rows)
        .await
        .map_err(meta_err)?
        .into_iter()
        .collect();
    let mut file_results = file_results.into_iter();
    for p in fix {
        let done = match &p.garbage {
            Some(Garbage::File(_)) => matches!(file_results.next(), Some(Ok(()))),
            Some(Garbage::InlineRow(id)) => removed_rows.contains(id),
            None => false,
        };
        if done {
            report.repaired.push(p);
        } else {
            report.problems.push(p);
        }
    }
    Ok(())
}

async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ServerError> + Send + 'static,
) -> Result<R, ServerError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServerError::Engine(e.to_string()))?
}

fn meta_err(e: strongbox_meta::MetaError) -> ServerError {
    ServerError::Meta(e.to_string())
}

fn blob_err(e: strongbox_blob::BlobError) -> ServerError {
    ServerError::Engine(e.to_string())
}
