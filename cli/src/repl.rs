//! The interactive shell: reads input with rustyline (multi-line until `;`,
//! history in `~/.flint_history`, Ctrl-R search, completion, highlighting)
//! and runs it. Ctrl-C clears the line, or cancels the running statement;
//! errors are reported and the session goes on; Ctrl-D or `\q` leaves.

use std::io::IsTerminal;
use std::path::PathBuf;

use rustyline::Editor;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;

use crate::helper::SqlHelper;
use crate::shell::{Shell, Stop};

/// The prompt.
const PROMPT: &str = "flint> ";

/// Runs the REPL until the user quits; `history` is the history file.
pub fn run(shell: &mut Shell, history: Option<PathBuf>) -> Result<(), String> {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .completion_type(CompletionType::List)
        .max_history_size(10_000)
        .map_err(|e| e.to_string())?
        .build();
    let mut editor: Editor<SqlHelper, FileHistory> =
        Editor::with_config(config).map_err(|e| format!("cannot start the line editor: {e}"))?;
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    editor.set_helper(Some(SqlHelper::new(shell.session().clone(), color)));
    if let Some(h) = &history {
        // A missing history file is a first run, not an error.
        let _ = editor.load_history(h);
    }
    loop {
        shell.clear_interrupt();
        match editor.readline(PROMPT) {
            Ok(input) => {
                if input.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(input.as_str());
                if let Some(h) = &history
                    && let Err(e) = editor.append_history(h)
                {
                    eprintln!("cannot save the history to {}: {e}", h.display());
                }
                let outcome = shell.run_script(None, &input, false);
                if outcome.stop == Some(Stop::Quit) {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(format!("cannot read input: {e}")),
        }
    }
    Ok(())
}
