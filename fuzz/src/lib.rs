//! Model-based differential fuzzing of libselectors' C API.
//!
//! Each input decodes to a sequence of calls ([`ops`]) that [`run`] makes on a SELECT, a POLL
//! and an EPOLL selector at once (and a KQUEUE one with the `libkqueue` feature), while [`world`] tracks the fds the input opened, closed and
//! duplicated. Every return code, key, map and ready set is checked against [`model`], the
//! contract as code; a mismatch panics, and libFuzzer saves the input.

pub mod model;
pub mod ops;
pub mod run;
pub mod scenarios;
pub mod world;
