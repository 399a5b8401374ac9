//! Group commit for the hot object writes (PUT, DELETE): writers queue their
//! work, and whichever thread next holds the writer connection runs every
//! queued job in one transaction, each under its own savepoint, then commits
//! once. With `synchronous=FULL` a commit is one WAL fsync, so N concurrent
//! small PUTs cost one fsync instead of N, and each still returns only after
//! its own change is durable (or reports the commit's failure).
use super::retry_busy;
use crate::{MetaError, Result};
use rusqlite::Connection;
use std::sync::{Arc, Mutex, PoisonError};

/// Work waiting for the next group commit.
pub(super) trait Pending: Send {
    /// Runs the job on the batch's connection, inside its transaction.
    /// Returns whether it succeeded (a failed job is rolled back to its savepoint).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Records a failure outside the job itself (savepoint handling).
    fn fail(&mut self, message: String);
    /// Hands the outcome to the waiting caller; `commit_error` when the
    /// batch's transaction did not commit, which undoes every job in it.
    fn deliver(self: Box<Self>, commit_error: Option<&BatchFailure>);
}

/// Why a batch did not commit; a full disk stays recognisable so the caller
/// can say so instead of a generic internal error.
pub(super) struct BatchFailure {
    message: String,
    storage_full: bool,
}

impl BatchFailure {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            storage_full: false,
        }
    }

    fn of(e: &MetaError, context: &str) -> Self {
        Self {
            message: format!("{context}{e}"),
            storage_full: e.is_storage_full(),
        }
    }

    fn of_sqlite(e: &rusqlite::Error, context: &str) -> Self {
        Self {
            message: format!("{context}{e}"),
            storage_full: crate::sqlite_full(e),
        }
    }

    fn to_error(&self) -> MetaError {
        if self.storage_full {
            MetaError::StorageFull(self.message.clone())
        } else {
            MetaError::Task(format!("group commit failed: {}", self.message))
        }
    }
}

struct Job<R, F> {
    work: Option<F>,
    outcome: Option<Result<R>>,
    reply: tokio::sync::oneshot::Sender<Result<R>>,
}

impl<R, F> Pending for Job<R, F>
where
    R: Send,
    F: FnOnce(&Connection) -> Result<R> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let outcome = match self.work.take() {
            Some(work) => work(conn),
            None => Err(MetaError::Task("group-commit job ran twice".into())),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn fail(&mut self, message: String) {
        self.outcome = Some(Err(MetaError::Task(message)));
    }

    fn deliver(self: Box<Self>, commit_error: Option<&BatchFailure>) {
        let outcome = match (commit_error, self.outcome) {
            (Some(e), Some(Ok(_)) | None) => Err(e.to_error()),
            (_, Some(outcome)) => outcome,
            (None, None) => Err(MetaError::Task("group-commit job never ran".into())),
        };
        // The caller may have gone away (its request was dropped); the change stands.
        let _ = self.reply.send(outcome);
    }
}

pub(super) type Queue = Arc<Mutex<Vec<Box<dyn Pending>>>>;

/// Queues `work` for the next group commit and waits for its outcome.
pub(super) async fn submit<R, F>(writer: &Arc<Mutex<Connection>>, queue: &Queue, work: F) -> Result<R>
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> Result<R> + Send + 'static,
{
    let (reply, outcome) = tokio::sync::oneshot::channel();
    queue.lock().unwrap_or_else(PoisonError::into_inner).push(Box::new(Job {
        work: Some(work),
        outcome: None,
        reply,
    }));
    let (writer, queue) = (Arc::clone(writer), Arc::clone(queue));
    // Every submitter schedules a flush; a flush that finds the queue empty
    // (an earlier one took its job along) ends at once.
    tokio::task::spawn_blocking(move || flush(&writer, &queue));
    outcome
        .await
        .map_err(|_| MetaError::Task("the metadata writer dropped a request".into()))?
}

fn flush(writer: &Mutex<Connection>, queue: &Mutex<Vec<Box<dyn Pending>>>) {
    let conn = writer.lock();
    let jobs = std::mem::take(&mut *queue.lock().unwrap_or_else(PoisonError::into_inner));
    if jobs.is_empty() {
        return;
    }
    match conn {
        Ok(mut conn) => run_batch(&mut conn, jobs),
        Err(_) => {
            let failure = BatchFailure::new("writer lock poisoned");
            jobs.into_iter().for_each(|j| j.deliver(Some(&failure)));
        }
    }
}

fn run_batch(conn: &mut Connection, mut jobs: Vec<Box<dyn Pending>>) {
    if let Err(e) = retry_busy(|| Ok(conn.execute_batch("BEGIN IMMEDIATE")?)) {
        let failure = BatchFailure::of(&e, "");
        jobs.into_iter().for_each(|j| j.deliver(Some(&failure)));
        return;
    }
    for job in &mut jobs {
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            job.fail(format!("savepoint: {e}"));
            continue;
        }
        let end = if job.run(conn) {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        if let Err(e) = conn.execute_batch(end) {
            // The transaction's state is unknown: abandon the whole batch.
            let failure = BatchFailure::of_sqlite(&e, "savepoint: ");
            let _ = conn.execute_batch("ROLLBACK");
            jobs.into_iter().for_each(|j| j.deliver(Some(&failure)));
            return;
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => jobs.into_iter().for_each(|j| j.deliver(None)),
        Err(e) => {
            let failure = BatchFailure::of_sqlite(&e, "");
            let _ = conn.execute_batch("ROLLBACK");
            jobs.into_iter().for_each(|j| j.deliver(Some(&failure)));
        }
    }
}
