//! Where installed packages live: content-addressed files under the data directory,
//! and beside them the precompiled artifacts, keyed by the engine's compatibility hash (wasmtime
//! version and engine configuration) so an upgrade or a config change never loads a stale artifact.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::{Error, Result};
use upline_package::{Digest, Package};

/// The package directory and the artifact cache.
#[derive(Debug, Clone)]
pub struct PackageStore {
    packages: PathBuf,
    cache: PathBuf,
}

impl PackageStore {
    /// Opens (and creates) the store under `data_dir`.
    pub fn open(data_dir: &Path, engine: &Engine) -> Result<Self> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("engine-{:016x}", hasher.finish());
        let store = Self { packages: data_dir.join("plugins"), cache: data_dir.join("cache").join(engine_key) };
        for dir in [&store.packages, &store.cache] {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        Ok(store)
    }

    /// Saves a package under its digest (a no-op when it is already there).
    pub fn save(&self, package: &Package) -> Result<PathBuf> {
        let path = self.package_path(&package.digest);
        if !path.exists() {
            write_atomically(&path, &package.bytes)?;
        }
        Ok(path)
    }

    /// The bytes of every stored package.
    pub fn packages(&self) -> Result<Vec<Vec<u8>>> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.packages)
            .map_err(Error::io(&self.packages))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
            .collect();
        paths.sort();
        paths.iter().map(|path| std::fs::read(path).map_err(Error::io(path))).collect()
    }

    /// The bytes of the stored package with `digest`.
    pub fn package(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.package_path(digest);
        std::fs::read(&path).map_err(Error::io(&path))
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

    fn package_path(&self, digest: &Digest) -> PathBuf {
        self.packages.join(format!("{}.wasm", digest.as_str()))
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
