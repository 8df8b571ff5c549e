//! Server entry: configuration → state → router → serve, with graceful shutdown.

use clap::Parser;
use keyhold::server::{
    cli::{self, Cli, Command},
    config::Config,
    edge::{assets, router::router},
    runtime::{
        state::AppState,
        telemetry::{self, LogFormat},
    },
};
use leptos::prelude::get_configuration;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(LogFormat::from_env());
    let result = match cli.command {
        None | Some(Command::Serve) => serve().await,
        Some(command) => cli::run(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let mut leptos_options = get_configuration(None)
        .map_err(|e| format!("leptos configuration: {e}"))?
        .leptos_options;
    // A `hash-files` build leaves hash.txt beside the binary: use the hashed names.
    leptos_options.hash_files |= assets::hash_file_present(&leptos_options.hash_file);
    let addr = leptos_options.site_addr;
    let state = AppState::build(&config, leptos_options)
        .await
        .map_err(|e| format!("start-up failed: {e}"))?;
    if let Some(metrics_addr) = config.metrics_addr {
        let handle = keyhold::server::edge::metrics::install()?;
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(message) =
                keyhold::server::edge::metrics::serve(metrics_addr, handle, state).await
            {
                tracing::error!("{message}");
            }
        });
    }
    let app = router(state.clone(), &config);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!("Keyhold listening on http://{addr}");
    keyhold::server::runtime::serve::serve(listener, app, config.header_timeout, shutdown_signal())
        .await;
    // The failed log-ins' activity entries still queued (`deferred_activity.rs`).
    state.accounts.drain().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
