//! Agents: the built-in demo agent (and, with the runtime, how an agent's
//! status is read from its signals).

pub mod demo;
