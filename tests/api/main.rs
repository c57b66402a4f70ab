//! The HTTP API, against the real server on a random port.

mod affiliates;
mod browser;
mod campaigns;
mod conversions;
mod money;
mod openapi;
mod plugins;
mod refunds;
mod tracking;
