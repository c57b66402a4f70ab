//! A plugin's log records reach the server's log at the plugin's own level. A test
//! binary of its own: tracing caches per call site whether anyone listens, a cache
//! other tests' threads, running at the same time, would race with.

use std::sync::Arc;

use upline_host::Error;
use upline_host::error::CallError;
use upline_host::plugin::{Distribute, Invocation};
use upline_tests::*;

/// The server-log records of target `plugin`: (level, message).
#[derive(Clone, Default)]
struct PluginLog(Arc<std::sync::Mutex<Vec<(tracing::Level, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PluginLog {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        if event.metadata().target() == "plugin" {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().expect("log").push((*event.metadata().level(), message.0));
        }
    }
}

#[test]
fn a_plugin_s_log_reaches_the_server_log_at_the_plugin_s_level() {
    use tracing_subscriber::layer::SubscriberExt;
    let (_dir, registry) = registry();
    let plugin = registry.get(&registry.install(hostile()).expect("install").id).expect("installed");
    let log = PluginLog::default();
    let subscriber = tracing_subscriber::registry().with(log.clone());
    let result = tracing::subscriber::with_default(subscriber, || {
        let config = plugin.configure(&serde_json::json!({"mode": "error"})).expect("valid config");
        let invocation = Invocation { config, ..Invocation::default() };
        let input = sale(money("100.00", "EUR"), &[(1, 1), (2, 1)], vec![group(1, "G", vec![])]);
        registry.engine().call::<Distribute>(&plugin, &invocation, &input, &())
    });
    // The failed call's error keeps the record too.
    match result {
        Err(Error::PluginCall(CallError { trace: Some(trace), .. })) => {
            assert_eq!(trace.logs.len(), 1, "{:?}", trace.logs);
            assert!(trace.usage.fuel > 0);
        }
        other => panic!("expected a failed call with its trace, got {other:?}"),
    }
    let records = log.0.lock().expect("log").clone();
    assert_eq!(records, [(tracing::Level::WARN, "about to refuse this conversion".to_owned())]);
}
