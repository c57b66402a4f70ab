//! The precompiled-artifact cache under the data directory: a package's compiled
//! component, keyed by its digest and the engine's compatibility hash (wasmtime
//! version and engine configuration), so an upgrade or a config change never loads
//! a stale artifact. Only a cache: packages themselves live in the database.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::{Error, Result};
use upline_package::Package;

/// The artifact cache.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    cache: PathBuf,
}

impl ArtifactCache {
    /// Opens (and creates) the cache under `data_dir`.
    pub fn open(data_dir: &Path, engine: &Engine) -> Result<Self> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let cache = data_dir.join("cache").join(format!("engine-{:016x}", hasher.finish()));
        std::fs::create_dir_all(&cache).map_err(Error::io(&cache))?;
        Ok(Self { cache })
    }

    /// The compiled component of `package`: from the cache, or compiled and cached.
    pub fn component(&self, engine: &Engine, package: &Package) -> Result<Component> {
        let artifact = self.cache.join(format!("{}.cwasm", package.digest.as_str()));
        if artifact.exists() {
            // SAFETY: the artifact was written by `Component::serialize` with an engine of
            // the same wasmtime version and configuration (the cache directory's key),
            // into a directory only this host writes.
            #[allow(unsafe_code)]
            match unsafe { Component::deserialize_file(engine, &artifact) } {
                Ok(component) => return Ok(component),
                Err(err) => {
                    tracing::warn!(artifact = %artifact.display(), "recompiling, cached artifact unusable: {err}")
                }
            }
        }
        let component = Component::new(engine, &package.bytes).map_err(|err| Error::Compile(format!("{err:#}")))?;
        let bytes = component.serialize().map_err(|err| Error::Internal(format!("serializing an artifact: {err}")))?;
        write_atomically(&artifact, &bytes)?;
        Ok(component)
    }
}

/// Writes a file so that readers see either nothing or all of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(Error::io(dir))?;
    std::io::Write::write_all(&mut file, bytes).map_err(Error::io(file.path()))?;
    file.persist(path).map_err(|err| Error::io(path)(err.error))?;
    Ok(())
}
