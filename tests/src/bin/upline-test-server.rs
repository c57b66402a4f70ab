//! The real server in a process of its own, for tests that run several hosts on one
//! database and kill one: `upline-test-server <database-url> <job-lease-secs>`.
//! Listens on a free port, prints `port <n>` on stdout, and runs its jobs every
//! 100 ms with the system clock. The operator key is `test-operator-key`.

use std::io::Write;
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(database_url), Some(lease)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: upline-test-server <database-url> <job-lease-secs>");
    };
    let data_dir = tempfile::tempdir()?;
    let listen = "127.0.0.1:0".parse()?;
    let settings = upline_host::app::Settings {
        database_url: Some(database_url),
        jobs_every: Some(Duration::from_millis(100)),
        job_lease: Duration::from_secs(lease.parse()?),
        ..upline_host::app::Settings::new(data_dir.path().to_path_buf(), listen, "test-operator-key".into())
    };
    let app = upline_host::app::Application::build(settings).await?;
    println!("port {}", app.port());
    std::io::stdout().flush()?;
    app.run().await?;
    Ok(())
}
