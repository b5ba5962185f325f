//! `bootstrap`: the Lambda entry point on `provided.al2023`.

use manage_tickets::{app, config::Config, store, telemetry};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("manage-tickets cannot start: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    let store = store::TicketStore::new(store::client::connect().await, &config.table_name);
    match lambda_http::run(app::service(store, &config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
