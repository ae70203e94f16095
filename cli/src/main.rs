//! `query`: Flint's SQL shell and batch runner.
//!
//! With a terminal on standard input and no `-c`/`-f`, it is an
//! interactive REPL; otherwise it runs the given scripts (or standard
//! input) and exits with 0 on success and 1 when a statement failed.
//!
//! Modules, from input to output: [`args`] (the command line), [`lex`] and
//! [`split`] (statements and their positions), [`meta`] (backslash and dot
//! commands), [`shell`] (running statements), [`demo`] (TPC-H data),
//! [`progress`] (the progress bar), [`format`], [`table`], [`fit`] and
//! [`output`]
//! (results), [`report`] (errors with their place), [`helper`] and
//! [`repl`] (the interactive shell).

mod args;
mod demo;
mod fit;
mod format;
mod helper;
mod lex;
mod meta;
mod output;
mod progress;
mod repl;
mod report;
mod shell;
mod split;
mod table;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use flint::{SessionConfig, SessionContext};

use crate::args::Args;
use crate::format::Format;
use crate::output::Sink;
use crate::shell::{Settings, Shell, Stop};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status after Ctrl-C in a batch run (128 + SIGINT).
const INTERRUPTED: u8 = 130;

/// mimalloc's `mi_option_purge_delay`: its index in mimalloc 3's
/// `mi_option_t` (the bindings name only the older options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory mapped for the next query instead of returning it to
/// the OS a second after it is freed: the kernel zeroes every page mapped
/// afresh, which cost about 15% of the CPU time of TPC-H joins. The process
/// keeps its high-water mark; `MIMALLOC_PURGE_DELAY` in the environment
/// overrides this.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: reading and setting an option has no preconditions. The check
    // of the documented default (1000 ms) makes sure index 15 is that option.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == 1000 {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        }
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("query: {message}");
            ExitCode::FAILURE
        }
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let interactive = args.commands.is_empty() && args.files.is_empty() && std::io::stdin().is_terminal();
    let mut config = SessionConfig::new();
    if let Some(n) = args.threads {
        config = config.with_worker_threads(n as usize);
    }
    let ctx = SessionContext::try_with_config(config).map_err(|e| e.to_string())?;
    if let Some(n) = args.partitions {
        ctx.set_setting("flint.shuffle.partitions", &n.to_string())
            .map_err(|e| e.to_string())?;
    }
    let sink = match &args.output {
        Some(path) => Sink::file(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => Sink::Stdout,
    };
    let format = args
        .format
        .unwrap_or(if sink.is_terminal() { Format::Table } else { Format::Csv });
    let settings = Settings {
        format,
        timing: true,
        explain: false,
        max_rows: args.max_rows,
        quiet: args.quiet,
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    ctrlc::set_handler(move || {
        // The first Ctrl-C cancels the running statement; a second one,
        // while the first is still being handled, leaves at once.
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nquery: interrupted twice, quitting");
            std::process::exit(i32::from(INTERRUPTED));
        }
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    let mut shell = Shell::new(ctx, settings, sink, interrupted);

    if interactive && !args.quiet {
        eprintln!(
            "Flint {} · \\? for help · statements end with ';' · Ctrl-D quits",
            env!("CARGO_PKG_VERSION")
        );
    }
    if let Some(sf) = args.demo_scale() {
        shell.start_demo(sf);
        if interactive && !args.quiet {
            eprintln!("Demo data: the 8 TPC-H tables at scale factor {sf}, generated in memory (\\d lists them)");
        }
    }

    let keep_going = args.continue_on_error;
    let mut failures = 0;
    let init = args
        .init
        .clone()
        .or_else(|| home().map(|h| h.join(".flintrc")).filter(|p| p.is_file()));
    let mut scripts: Vec<Script> = init.into_iter().map(Script::File).collect();
    if interactive {
        for script in scripts {
            failures += run_one(&mut shell, &script, keep_going).failures;
        }
        let _ = failures;
        repl::run(&mut shell, home().map(|h| h.join(".flint_history")))?;
        return Ok(ExitCode::SUCCESS);
    }

    scripts.extend(args.files.iter().cloned().map(Script::File));
    scripts.extend(args.commands.iter().cloned().map(Script::Command));
    if args.files.is_empty() && args.commands.is_empty() {
        scripts.push(Script::Stdin);
    }
    for script in &scripts {
        let outcome = run_one(&mut shell, script, keep_going);
        failures += outcome.failures;
        match outcome.stop {
            Some(Stop::Quit) => break,
            Some(Stop::Interrupted) => return Ok(ExitCode::from(INTERRUPTED)),
            // The reader of the results left; nobody is there to tell.
            Some(Stop::BrokenPipe) => return Ok(ExitCode::SUCCESS),
            None => {}
        }
        if failures > 0 && !keep_going {
            break;
        }
    }
    Ok(if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Where a batch script comes from.
enum Script {
    File(PathBuf),
    Command(String),
    Stdin,
}

/// Reads and runs one script; a script that cannot be read is a failure.
fn run_one(shell: &mut Shell, script: &Script, keep_going: bool) -> shell::Outcome {
    let (name, text) = match script {
        Script::File(path) => (path.display().to_string(), std::fs::read_to_string(path)),
        Script::Command(sql) => ("<command>".to_string(), Ok(sql.clone())),
        Script::Stdin => {
            let mut text = String::new();
            let read = std::io::stdin().read_to_string(&mut text).map(|_| text);
            ("<stdin>".to_string(), read)
        }
    };
    match text {
        Ok(text) => shell.run_script(Some(&name), &text, keep_going),
        Err(e) => {
            eprintln!("{name}: error: cannot read it: {e}");
            shell::Outcome {
                failures: 1,
                stop: None,
            }
        }
    }
}
