//! The HTTP API, against the real server on a random port.

mod campaigns;
mod money;
mod plugins;
