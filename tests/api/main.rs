//! The HTTP API, against the real server on a random port.

mod plugins;
