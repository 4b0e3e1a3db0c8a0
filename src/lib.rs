//! switchboard: run many coding agents at once and watch them from one
//! terminal control room.
//!
//! The folders follow the architecture of DESIGN.md: [`model`] is the
//! operator's world as data, [`intake`] reads the messages that bring work,
//! [`journal`] is the SQLite journal that is the single source of truth,
//! [`config`] the operator's settings, [`home`] the directory they all live
//! in, and [`cli`] the commands.

pub mod agents;
pub mod cli;
pub mod config;
pub mod engine;
pub mod home;
pub mod intake;
pub mod journal;
pub mod locks;
pub mod model;
pub mod net;
pub mod remote;
pub mod runtime;
pub mod scheduler;
pub mod simulator;
pub mod tui;
pub mod untrusted;
pub mod workspace;
