//! Write Upline commission plugins in Rust.
//!
//! A plugin is a WebAssembly component that implements one or more *hooks*:
//! [`Screen`] (reject or re-group a conversion before distribution),
//! [`Distribute`] (tier distribution), [`Approve`] (approval policy),
//! [`Carryover`] (period close) and [`BonusRules`] (performance rewards).
//! Implement the hook traits for one type, then export it:
//!
//! ```
//! use upline_plugin_sdk::prelude::*;
//!
//! struct FlatFee;
//! impl Plugin for FlatFee { type Config = NoConfig; }
//! impl Distribute for FlatFee {
//!     fn distribute(input: &DistributeInput, _: &NoConfig, _: &impl Host) -> Result<Vec<CommissionLine>> {
//!         Ok(input.upline.first().into_iter()
//!             .map(|m| CommissionLine::new(m.affiliate, 1, input.conversion.total.with_amount(1.into()).round(), "flat fee"))
//!             .collect())
//!     }
//! }
//! upline_plugin_sdk::export_plugin!(FlatFee: Distribute);
//! ```
//!
//! Plugin logic is ordinary Rust: unit-test it natively with `cargo test`, passing a
//! [`testing::TestHost`] where a hook needs the host. See `docs/plugin-guide.md`.
#![deny(missing_docs)]

#[doc(hidden)]
pub mod alloc;
mod hooks;
mod host;
pub mod testing;

#[doc(hidden)]
pub mod __glue;

pub use hooks::{Approve, BonusRules, Carryover, Distribute, NoConfig, Plugin, Screen};
pub use host::Host;
/// Money, ids and the hooks' inputs and outputs, shared with the host (`upline-types`).
pub use upline_types::*;

/// The plugin contract version this SDK builds against (the WIT package version).
pub const API_VERSION: &str = "0.2.0";

/// The custom section holding [`API_VERSION`]: the host reads it before compiling a plugin.
pub const API_VERSION_SECTION: &str = "upline:api-version";

/// Bindings generated from the WIT contract. Not part of the SDK's API: use the
/// types re-exported at the crate root instead.
#[doc(hidden)]
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/since_v0.2.0",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "upline_plugin_sdk::bindings",
        runtime_path: "upline_plugin_sdk::__wit_bindgen_rt",
    });
}

// Lets the generated bindings name this crate by its public path, also from inside it.
extern crate self as upline_plugin_sdk;

#[doc(hidden)]
pub use wit_bindgen::rt as __wit_bindgen_rt;

/// The items most plugins need, for a glob import.
pub mod prelude {
    pub use crate::{
        AffiliateId, Approve, BonusRules, Carryover, CommissionGroup, CommissionLine, Conversion, Currency, Decimal,
        Distribute, DistributeInput, Error, GroupId, Host, Money, NoConfig, Plugin, Rate, Result, Screen, TierRule,
        TierSetting, Timestamp, UplineMember,
    };
}

/// Exports a plugin type's hooks from the component.
///
/// List the hook traits the type implements: the component exports those hooks and
/// no others, and the package records them (with [`API_VERSION`]), so the hooks a
/// plugin offers are written once, here. The component also exports the schema of
/// the plugin's [`Plugin::Config`] and a check that a configuration deserializes. A listed hook the type does not implement
/// is a compile error. `BonusRules` exports both `evaluate` and `progress`.
///
/// ```
/// # use upline_plugin_sdk::prelude::*;
/// # use upline_plugin_sdk::{ApprovalInput, Decision};
/// struct MyPlugin;
/// impl Plugin for MyPlugin { type Config = NoConfig; }
/// impl Distribute for MyPlugin {
///     fn distribute(_: &DistributeInput, _: &NoConfig, _: &impl Host) -> Result<Vec<CommissionLine>> { Ok(vec![]) }
/// }
/// impl Approve for MyPlugin {
///     fn approve(_: &ApprovalInput, _: &NoConfig, _: &impl Host) -> Result<Decision> { Ok(Decision::Approve) }
/// }
/// upline_plugin_sdk::export_plugin!(MyPlugin: Distribute, Approve);
/// ```
///
/// Listing a hook the type does not implement does not compile:
///
/// ```compile_fail
/// # use upline_plugin_sdk::prelude::*;
/// struct Undecided;
/// impl Plugin for Undecided { type Config = NoConfig; }
/// upline_plugin_sdk::export_plugin!(Undecided: Approve);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty: $($hook:ident),+ $(,)?) => {
        const _: fn() = || {
            $( { fn implemented<T: $crate::$hook>() {} implemented::<$plugin>(); } )+
        };

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __UplineExports = $crate::__glue::Adapter<$plugin>;
            $crate::__export_upline_plugin_config_0_2_0_cabi!(
                __UplineExports with_types_in $crate::bindings::exports::upline::plugin::config
            );
            $( $crate::__export_hook!($hook); )+

            #[global_allocator]
            static __UPLINE_ALLOCATOR: $crate::alloc::BumpAllocator = $crate::alloc::BumpAllocator::new();

            #[unsafe(link_section = "upline:api-version")]
            #[used]
            static __UPLINE_API_VERSION: [u8; $crate::API_VERSION.len()] =
                $crate::__glue::section_bytes($crate::API_VERSION);

            const __UPLINE_HOOK_LIST: &str = concat!($(stringify!($hook), " "),+);
            #[unsafe(link_section = "upline:hooks")]
            #[used]
            static __UPLINE_HOOKS: [u8; __UPLINE_HOOK_LIST.len()] = $crate::__glue::section_bytes(__UPLINE_HOOK_LIST);
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_hook {
    (Screen) => {
        $crate::__export_upline_plugin_screen_0_2_0_cabi!(
            __UplineExports with_types_in $crate::bindings::exports::upline::plugin::screen
        );
    };
    (Distribute) => {
        $crate::__export_upline_plugin_distribute_0_2_0_cabi!(
            __UplineExports with_types_in $crate::bindings::exports::upline::plugin::distribute
        );
    };
    (Approve) => {
        $crate::__export_upline_plugin_approve_0_2_0_cabi!(
            __UplineExports with_types_in $crate::bindings::exports::upline::plugin::approve
        );
    };
    (Carryover) => {
        $crate::__export_upline_plugin_carryover_0_2_0_cabi!(
            __UplineExports with_types_in $crate::bindings::exports::upline::plugin::carryover
        );
    };
    (BonusRules) => {
        $crate::__export_upline_plugin_bonus_rules_0_2_0_cabi!(
            __UplineExports with_types_in $crate::bindings::exports::upline::plugin::bonus_rules
        );
    };
}
