//! The plugin runtime with real wasm plugins built from source.

mod builtins;
mod hostile;
mod install;
