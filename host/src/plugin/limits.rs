//! Enforcing a call's [`Limits`](upline_package::Limits) inside wasmtime: the trap a
//! limit raises and the memory limiter.

use std::fmt;

use upline_package::Limit;

/// The trap a limit raises inside a call; the runtime turns it into
/// [`Failure::LimitExceeded`](crate::error::Failure::LimitExceeded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitTrap(pub Limit);

impl fmt::Display for LimitTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} limit exceeded", self.0)
    }
}

impl std::error::Error for LimitTrap {}

/// Caps a store's linear memory and remembers the peak it reached.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: usize,
    peak: usize,
}

impl MemoryLimiter {
    /// A limiter allowing at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self { cap, peak: 0 }
    }

    /// The largest memory size granted so far, in bytes.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.cap {
            return Err(LimitTrap(Limit::Memory).into());
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
