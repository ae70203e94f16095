//! Data to try Flint on without a download: the eight TPC-H tables
//! generated in memory, by `--demo` or by the statement `CALL tpch(SF)`.
//! In the REPL the tables are generated in the background while the first
//! prompt is already up; the first statement waits for them.

use std::sync::Arc;
use std::thread::JoinHandle;

use flint::SessionContext;
use flint::datasource::MemTable;

use crate::args::{DEFAULT_DEMO_SCALE, parse_scale};
use crate::lex::tokenize;

/// TPC-H tables being generated on a helper thread.
#[derive(Default)]
pub struct Demo {
    pending: Option<(f64, JoinHandle<flint::Result<()>>)>,
}

impl Demo {
    /// Starts generating the tables at scale factor `sf` into `ctx`.
    pub fn start(ctx: &SessionContext, sf: f64) -> Self {
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("flint-demo".into())
            .spawn(move || register(&ctx, sf));
        match spawned {
            Ok(h) => Self { pending: Some((sf, h)) },
            // No thread to spare: the caller generates them itself.
            Err(_) => Self::default(),
        }
    }

    /// The scale factor of the tables still being generated.
    pub fn pending_scale(&self) -> Option<f64> {
        self.pending
            .as_ref()
            .filter(|(_, h)| !h.is_finished())
            .map(|(sf, _)| *sf)
    }

    /// Waits for the generation, if one was started and not yet waited
    /// for; returns its scale factor and outcome.
    pub fn wait(&mut self) -> Option<(f64, flint::Result<()>)> {
        let (sf, handle) = self.pending.take()?;
        let result = handle
            .join()
            .unwrap_or_else(|_| Err(flint::Error::Internal("TPC-H generation panicked".into())));
        Some((sf, result))
    }
}

/// Generates the eight tables at scale factor `sf` and registers them in
/// `ctx`, each split into as many partitions as the session has workers
/// (batch by batch), so that queries over them use every core.
pub fn register(ctx: &SessionContext, sf: f64) -> flint::Result<()> {
    let partitions = ctx.default_parallelism().max(1);
    for table in flint::tpch::TABLES {
        let mut parts = vec![Vec::new(); partitions];
        for (i, batch) in flint::tpch::generate(table, sf)?.into_iter().enumerate() {
            parts[i % partitions].push(batch);
        }
        let provider = MemTable::try_new(flint::tpch::schema(table)?, parts)?;
        ctx.register_table(table, Arc::new(provider))?;
    }
    Ok(())
}

/// Recognizes `CALL tpch()` and `CALL tpch(SF)`: `None` for any other
/// statement, else the scale factor or why it is wrong.
pub fn parse_call(statement: &str) -> Option<Result<f64, String>> {
    let words: Vec<&str> = tokenize(statement)
        .into_iter()
        .filter(|t| t.is_significant())
        .map(|t| &statement[t.start..t.end])
        .collect();
    match words.as_slice() {
        [call, name, rest @ ..] if call.eq_ignore_ascii_case("call") && name.eq_ignore_ascii_case("tpch") => {
            Some(match rest {
                ["(", ")"] | [] => Ok(DEFAULT_DEMO_SCALE),
                ["(", sf, ")"] => parse_scale(sf),
                _ => Err("usage: CALL tpch(SF), e.g. CALL tpch(0.1)".to_string()),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_tpch() {
        assert_eq!(parse_call("CALL tpch(0.01)"), Some(Ok(0.01)));
        assert_eq!(parse_call("call TPCH ( )"), Some(Ok(DEFAULT_DEMO_SCALE)));
        assert!(matches!(parse_call("CALL tpch(-1)"), Some(Err(_))));
        assert!(matches!(parse_call("CALL tpch(1, 2)"), Some(Err(_))));
        assert_eq!(parse_call("SELECT 1"), None);
    }
}
