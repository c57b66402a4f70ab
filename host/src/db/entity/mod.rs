//! sea-orm entities, one file per table.

pub mod affiliate;
pub mod affiliate_stats;
pub mod audit;
pub mod award;
pub mod campaign;
pub mod click;
pub mod commission;
pub mod commission_group;
pub mod conversion;
pub mod coupon;
pub mod job;
pub mod membership;
pub mod notification;
pub mod operator;
pub mod operator_key;
pub mod operator_session;
pub mod payout;
pub mod plugin_binding;
pub mod plugin_limit;
pub mod plugin_package;
pub mod session;
pub mod stats_version;
pub mod subscription;
pub mod tier_rate;
pub mod webhook_delivery;
pub mod webhook_endpoint;
