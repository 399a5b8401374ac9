//! The IAM endpoint end to end below HTTP: requests signed with the sigv4
//! crate's `sign`, handled by `IamService` over a real SQLite store.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]

mod auth;
mod policies;
mod support;
mod users;
