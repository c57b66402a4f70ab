//! The Upline host: tracking, the commission lifecycle, and the sandboxed plugin
//! runtime that runs the business rules.

pub mod app;
pub mod authoring;
pub mod clock;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod plugin;
pub mod runner;
pub mod service;
pub mod web;

pub use error::{Error, Result};
