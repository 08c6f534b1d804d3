//! Cluster administration on top of [`crate::Client`].

use crate::Client;

/// Administrative operations (topics, offsets, groups, configs).
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
}

impl Admin {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        Admin { client }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
