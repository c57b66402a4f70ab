//! Per-call limits: fuel, wall-clock deadline, memory, input, output and log sizes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The limits of one plugin call. A manifest gives a plugin's defaults; the operator
/// may change them per plugin; the host never lets them above [`Limits::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
#[cfg_attr(feature = "openapi", schema(description = "The limits of one plugin call; the host caps each."))]
pub struct Limits {
    /// Deterministic instruction budget (wasmtime fuel).
    pub fuel: u64,
    /// Wall-clock deadline, in milliseconds (epoch interruption, 1 ms ticks).
    pub timeout_ms: u64,
    /// Linear memory cap, in MiB.
    pub memory_mib: u64,
    /// Cap on the JSON-encoded size of the hook's input, in KiB.
    pub max_input_kib: u64,
    /// Cap on the size of the hook's result as the host copies it out of the plugin
    /// (the bytes of its strings and lists), in KiB; also on each log message.
    pub max_output_kib: u64,
    /// Cap on the bytes logged in one call, in KiB.
    pub max_log_kib: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 50_000_000,
            timeout_ms: 100,
            memory_mib: 32,
            max_input_kib: 256,
            max_output_kib: 256,
            max_log_kib: 16,
        }
    }
}

impl Limits {
    /// The most any plugin may be given.
    pub const MAX: Limits = Limits {
        fuel: 10_000_000_000,
        timeout_ms: 10_000,
        memory_mib: 512,
        max_input_kib: 16 * 1024,
        max_output_kib: 16 * 1024,
        max_log_kib: 1024,
    };

    fn values(&self) -> [(Limit, u64, u64); 6] {
        [
            (Limit::Fuel, self.fuel, Self::MAX.fuel),
            (Limit::Timeout, self.timeout_ms, Self::MAX.timeout_ms),
            (Limit::Memory, self.memory_mib, Self::MAX.memory_mib),
            (Limit::Input, self.max_input_kib, Self::MAX.max_input_kib),
            (Limit::Output, self.max_output_kib, Self::MAX.max_output_kib),
            (Limit::Log, self.max_log_kib, Self::MAX.max_log_kib),
        ]
    }

    /// Checks every limit is positive and at most [`Limits::MAX`]; on failure returns
    /// the field's name and what is wrong.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (limit, value, max) in self.values() {
            if value == 0 || value > max {
                return Err((limit.field(), format!("must be between 1 and {max}, got {value}")));
            }
        }
        Ok(())
    }

    /// The value of `limit`, in the unit [`Limit`]'s display names.
    pub fn get(&self, limit: Limit) -> u64 {
        self.values().into_iter().find(|(l, ..)| *l == limit).map_or(0, |(_, value, _)| value)
    }

    /// Memory cap in bytes.
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_mib * 1024 * 1024).unwrap_or(usize::MAX)
    }
}

/// One of the per-call limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    /// Instruction budget.
    Fuel,
    /// Wall-clock deadline.
    Timeout,
    /// Linear memory.
    Memory,
    /// Input size.
    Input,
    /// Result size.
    Output,
    /// Log size.
    Log,
}

impl Limit {
    /// Its key in `[limits]` of `plugin.toml` and in the limits endpoint's body.
    pub fn field(self) -> &'static str {
        match self {
            Limit::Fuel => "fuel",
            Limit::Timeout => "timeout-ms",
            Limit::Memory => "memory-mib",
            Limit::Input => "max-input-kib",
            Limit::Output => "max-output-kib",
            Limit::Log => "max-log-kib",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Fuel => "fuel (instructions)",
            Limit::Timeout => "time (ms)",
            Limit::Memory => "memory (MiB)",
            Limit::Input => "input size (KiB)",
            Limit::Output => "result size (KiB)",
            Limit::Log => "log size (KiB)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_within_the_maximum() {
        assert_eq!(Limits::default().check(), Ok(()));
        assert_eq!(Limits::MAX.check(), Ok(()));
    }

    #[test]
    fn a_limit_out_of_range_names_its_field() {
        let limits = Limits { memory_mib: 4096, ..Limits::default() };
        assert_eq!(limits.check().map_err(|(field, _)| field), Err("memory-mib"));
        assert_eq!(Limits::default().get(Limit::Timeout), 100);
    }
}
