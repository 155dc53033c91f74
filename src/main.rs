//! The `qunguan` binary: parse the command line, load config, run.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use qunguan::{
    config::Config,
    policy::Verb,
    server, telemetry,
    tools::{self, healthcheck, send, setting},
};
#[cfg(feature = "demo")]
use qunguan::{demo, i18n::Lang};
use secrecy::SecretString;

#[derive(Parser)]
#[command(name = "qunguan", version, about = "群管: a DingTalk group-admin bot")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve DingTalk robot callbacks (configuration from the environment and `.env`).
    Serve,
    /// Try qunguan without DingTalk: a simulated group in this terminal.
    #[cfg(feature = "demo")]
    Demo {
        /// Send the lines of FILE instead of prompting; exit 1 if any reply is an error.
        #[arg(long, value_name = "FILE")]
        script: Option<PathBuf>,
        /// Reply language, `zh` or `en` (default: QUNGUAN_LANG, else zh).
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
        /// How messages reach qunguan: `http` (signed callbacks) or `stream` (the
        /// simulated Stream gateway pushes them over a WebSocket).
        #[arg(long, value_enum, default_value = "http")]
        mode: demo::DemoMode,
    },
    /// Post one signed test callback to a deployment and say what the answer means.
    Send {
        /// The callback URL DingTalk is configured with.
        #[arg(long)]
        url: String,
        /// The app secret (default: DINGTALK_APP_SECRET from the environment or `.env`).
        #[arg(long, env = "DINGTALK_APP_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// The callback's conversationId (a group's openConversationId).
        #[arg(long, default_value = "cidQunguanSendCheck==")]
        conversation_id: String,
        /// The sender's staff id.
        #[arg(long, default_value = "qunguan-send")]
        sender: String,
        /// Mark the sender as an organisation admin (`isAdmin`).
        #[arg(long)]
        admin: bool,
        /// Send as a 1:1 chat with the bot instead of a group @mention.
        #[arg(long)]
        direct: bool,
        /// The sessionWebhook the bot should reply to.
        #[arg(
            long,
            default_value = "https://oapi.dingtalk.com/robot/sendBySession?session=qunguan-send-check"
        )]
        webhook: String,
        /// What the member types after the bot's @name.
        #[arg(default_value = "/help", num_args = 1.., trailing_var_arg = true)]
        text: Vec<String>,
    },
    /// Make many groups follow one policy file (settings as for `serve`).
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Exit 0 if a running qunguan answers on /healthz (for container health checks).
    Healthcheck {
        /// Default: /healthz on QUNGUAN_LISTEN, reached on loopback.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum PolicyAction {
    /// Print what differs from FILE, group by group: exit 0 if nothing, 1 if something
    /// does, 2 for a bad file.
    Check { file: PathBuf },
    /// Change what differs from FILE (and set friending): exit 0 when done, 1 if a group
    /// failed, 2 for a bad file.
    Apply { file: PathBuf },
}

#[cfg(feature = "demo")]
fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse().map_err(|()| format!("`{s}` is not `zh` or `en`"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve => serve(),
        #[cfg(feature = "demo")]
        Command::Demo { script, lang, mode } => demo::main(demo::Options { script, lang, mode }),
        Command::Send {
            url,
            secret,
            conversation_id,
            sender,
            admin,
            direct,
            webhook,
            text,
        } => {
            let Some(secret) = secret.or_else(|| setting("DINGTALK_APP_SECRET")) else {
                eprintln!("qunguan send: no app secret: set DINGTALK_APP_SECRET or pass --secret");
                return ExitCode::from(2);
            };
            send::main(send::Options {
                url,
                secret: SecretString::from(secret),
                text: text.join(" "),
                conversation_id,
                sender,
                is_admin: admin,
                direct,
                webhook,
            })
        }
        Command::Policy { action } => match action {
            PolicyAction::Check { file } => tools::policy::main(Verb::Check, &file),
            PolicyAction::Apply { file } => tools::policy::main(Verb::Apply, &file),
        },
        Command::Healthcheck { url } => healthcheck::main(url),
    }
}

fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("qunguan: {e}");
            return ExitCode::from(2);
        }
    };
    let logging = telemetry::init();
    tools::block_on(async {
        // Before anything listens: a SIGTERM that arrives while qunguan starts is a clean
        // stop, not the default (immediate) termination.
        let shutdown = match ShutdownSignals::install() {
            Ok(signals) => signals,
            Err(e) => {
                eprintln!("qunguan: cannot listen for shutdown signals: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut running = match server::start(config).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("qunguan: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Some(logging) = &logging {
            running.app.metrics.watch_log_drops(logging.dropped());
        }
        tokio::select! {
            () = shutdown.recv() => {}
            problem = running.failed() => {
                eprintln!("qunguan: {problem}");
                tracing::error!(%problem, "Stream mode cannot start");
                let _ = running.stop().await;
                return ExitCode::from(2);
            }
        }
        match running.stop().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("qunguan: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Ctrl-C and SIGTERM, listened for from [`ShutdownSignals::install`] on.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Replaces the default handlers (which end the process at once) with ours.
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves on the first of them.
    async fn recv(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    }
}
