//! What can go wrong reading, checking or building a package.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a package cannot be read, checked or built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not valid WebAssembly.
    #[error("not a valid WebAssembly binary: {0}")]
    InvalidWasm(String),

    /// A core module where a component was expected.
    #[error(
        "this is a core WebAssembly module, not a component: package it with `upline plugin build` (or `upline plugin pack`)"
    )]
    NotAComponent,

    /// A required custom section is missing.
    #[error(
        "the component has no `{0}` custom section: package it with `upline plugin build` (or `upline plugin pack`)"
    )]
    MissingSection(&'static str),

    /// The plugin was built against a contract version this host does not support.
    #[error("plugin API version {found} is not supported (this host supports {supported})")]
    UnsupportedApiVersion {
        /// The version the plugin declares.
        found: String,
        /// The versions this host loads.
        supported: String,
    },

    /// The manifest is malformed or inconsistent.
    #[error("invalid plugin manifest: `{field}`: {message}")]
    InvalidManifest {
        /// The offending field's path, e.g. `limits.fuel`.
        field: String,
        /// What is wrong with it.
        message: String,
    },

    /// A plugin could not be built from source.
    #[error("plugin build failed: {0}")]
    Build(String),

    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
