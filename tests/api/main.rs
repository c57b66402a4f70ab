//! The HTTP API, against the real server on a random port.

mod affiliates;
mod campaigns;
mod money;
mod plugins;
