//! The engine's hook for network intake: started with the engine when
//! configured (`[intake.http] listen`, `[intake.sqs] queue_url`, or
//! `run --listen`), stopped with it.

use std::net::SocketAddr;

use super::Engine;

impl Engine {
    /// Starts the network intake this engine's config asks for.
    pub fn start_network(&mut self, listen: Option<SocketAddr>) -> anyhow::Result<()> {
        self.network = crate::net::start(&self.home, &self.config, listen)?;
        Ok(())
    }
}
