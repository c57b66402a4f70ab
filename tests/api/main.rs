//! The HTTP API, against the real server on a random port.

mod accounts;
mod affiliates;
mod approval;
mod authoring;
mod bonuses;
mod browser;
mod campaigns;
mod carryover;
mod console;
mod contract;
mod conversions;
mod guards;
mod hosts;
mod money;
mod openapi;
mod performance_rewards;
mod pipeline;
mod plugins;
mod portal;
mod public;
mod refunds;
mod rewards;
mod stats;
mod time;
mod tracking;
mod webhooks;
