//! The host's one error type. `http::error` maps it to responses in one place.

use std::path::PathBuf;

use crate::plugin::{Hook, Limit, PluginId};

/// `Result` with the host's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the host.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The package cannot be read or is not a valid plugin package.
    #[error(transparent)]
    Package(#[from] upline_package::Error),

    /// The manifest declares a hook the component does not export.
    #[error("the manifest declares the `{hook}` hook but the component does not export `{export}`")]
    MissingExport {
        /// The declared hook.
        hook: Hook,
        /// The export the host looked for.
        export: String,
    },

    /// The component imports something the host does not offer or the manifest did not request.
    #[error("the component imports `{import}`, {reason}")]
    UndeclaredImport {
        /// The import's name.
        import: String,
        /// Why it is refused.
        reason: &'static str,
    },

    /// The component failed to compile.
    #[error("the component failed to compile: {0}")]
    Compile(String),

    /// No installed plugin has this id (and version).
    #[error("plugin `{id}`{} is not installed", version.as_ref().map(|v| format!(" version {v}")).unwrap_or_default())]
    PluginNotFound {
        /// The plugin id.
        id: PluginId,
        /// The version asked for, if any.
        version: Option<semver::Version>,
    },

    /// The plugin does not implement the hook the host asked for.
    #[error("plugin `{plugin}` does not implement the `{hook}` hook")]
    HookNotImplemented {
        /// The plugin.
        plugin: PluginId,
        /// The hook.
        hook: Hook,
    },

    /// A per-campaign configuration does not match the plugin's JSON Schema.
    #[error("invalid configuration for plugin `{plugin}`: `{field}`: {message}")]
    InvalidConfig {
        /// The plugin.
        plugin: PluginId,
        /// JSON pointer to the offending value (empty for the whole document).
        field: String,
        /// What is wrong with it.
        message: String,
    },

    /// A request or input file is malformed.
    #[error("invalid input: `{field}`: {message}")]
    InvalidInput {
        /// The offending field's path (empty for the whole document).
        field: String,
        /// What is wrong with it.
        message: String,
    },

    /// A record the request names does not exist.
    #[error("{entity} {id} does not exist")]
    NotFound {
        /// What was looked for, e.g. `campaign`.
        entity: &'static str,
        /// Its id.
        id: String,
    },

    /// The request conflicts with what is stored (e.g. a duplicate name).
    #[error("conflict: `{field}`: {message}")]
    Conflict {
        /// The field whose value conflicts.
        field: String,
        /// What it conflicts with.
        message: String,
    },

    /// The database failed.
    #[error("database error: {0}")]
    Database(String),

    /// A request needs credentials it does not carry.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),

    /// The request is understood but not allowed (e.g. from a site the campaign does not allow).
    #[error("forbidden: {0}")]
    Forbidden(String),

    /// Too many requests: try again after `retry_after`.
    #[error("too many requests: {message}")]
    RateLimited {
        /// What limit was reached.
        message: String,
        /// When to try again.
        retry_after: std::time::Duration,
    },

    /// The server is too busy to take the request now: try again after `retry_after`.
    #[error("unavailable: {message}")]
    Unavailable {
        /// Why.
        message: String,
        /// When to try again.
        retry_after: std::time::Duration,
    },

    /// The client paused sending the request's body for too long.
    #[error("the request body stopped arriving for {0:?}: send it without long pauses")]
    SlowBody(std::time::Duration),

    /// The request's body is larger than the endpoint accepts.
    #[error("the request body is larger than the {limit} bytes this endpoint accepts")]
    TooLarge {
        /// The most the endpoint accepts, in bytes.
        limit: usize,
    },

    /// A plugin call failed; the plugin, its version and the cause are named.
    #[error("{0}")]
    PluginCall(#[from] CallError),

    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// A host-side failure a client cannot cause or fix.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::domain::IllegalTransition> for Error {
    fn from(err: crate::domain::IllegalTransition) -> Self {
        Error::Conflict { field: "status".into(), message: err.to_string() }
    }
}

impl Error {
    /// An invalid manifest (or configuration schema) at `field`.
    pub fn invalid_manifest(field: &str, message: String) -> Self {
        Error::Package(upline_package::Error::InvalidManifest { field: field.into(), message })
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// A failed plugin call: which plugin, which version, which hook, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin `{plugin}` {version}, hook `{hook}`: {failure}")]
pub struct CallError {
    /// The plugin.
    pub plugin: PluginId,
    /// Its version.
    pub version: semver::Version,
    /// The hook called.
    pub hook: Hook,
    /// What went wrong.
    pub failure: Failure,
    /// What the plugin logged before it failed and what the call cost; none when the
    /// call was refused before it ran.
    pub trace: Option<Box<crate::plugin::CallTrace>>,
}

/// Why a plugin call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The plugin went over one of its limits and was stopped.
    #[error(
        "{limit} limit of {allowed} exceeded: raise `{}` under [limits] in plugin.toml, or for the installed \
         plugin with PUT /api/v1/plugins/{{id}}/limits (the host caps every limit)",
        limit.field()
    )]
    LimitExceeded {
        /// The limit.
        limit: Limit,
        /// The limit's value, in the limit's unit.
        allowed: u64,
    },
    /// The plugin panicked.
    #[error("panicked: {0}")]
    Panic(String),
    /// The plugin trapped (e.g. `unreachable`, out-of-bounds access).
    #[error("trapped: {0}")]
    Trap(String),
    /// The plugin returned an error.
    #[error("returned an error: {0}")]
    Returned(String),
    /// The plugin's result breaks an invariant, so the host refused it.
    #[error("invalid result: {0}")]
    InvalidOutput(String),
}
