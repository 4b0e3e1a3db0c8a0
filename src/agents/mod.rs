//! Agents: the built-in demo agent, and how an agent's
//! status is read from its signals.

pub mod answer;
pub mod demo;
pub mod explain;
pub mod question;
pub mod status;
