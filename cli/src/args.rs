//! Command-line options.

use std::path::PathBuf;

use clap::Parser;

use crate::format::Format;

const EXAMPLES: &str = "\
Examples:
  query --demo                          shell over TPC-H tables generated in memory
  query --demo -c \"SELECT count(*) FROM lineitem\"
  query -f etl.sql -f report.sql        run two scripts in order, stop at the first error
  query --format csv -c \"SELECT * FROM 'data/*.parquet'\" > out.csv
  query --format json < job.sql         statements from standard input
  echo \"SELECT 1 AS one;\" | query --format markdown

Inside the shell, \\? lists the meta-commands (\\d, \\timing, \\format, \\i, \\o, \\explain, \\q).
Statements end with ';'. Ctrl-C cancels the running query, Ctrl-D exits.

Exit status: 0 on success; 1 when a statement failed (reported on stderr as
file:line:column); 2 for a bad command line; 130 after Ctrl-C.";

/// Flint's SQL shell: an interactive REPL on a terminal, a batch runner
/// otherwise.
#[derive(Debug, Parser)]
#[command(name = "query", version, about, after_help = EXAMPLES, args_override_self = true)]
pub struct Args {
    /// Runs SQL (statements separated by ';') and exits; may be repeated.
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,

    /// Runs a SQL script and exits; may be repeated (scripts run in order,
    /// before any -c).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format [default: table when standard output is a terminal,
    /// csv otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Writes results to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Worker threads that run tasks [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,

    /// Partitions of every shuffle (the setting flint.shuffle.partitions)
    /// [default: twice the worker threads].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub partitions: Option<u32>,

    /// Runs FILE before anything else [default: ~/.flintrc if it exists].
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,

    /// Prints no banner, timings or row counts.
    #[arg(short, long)]
    pub quiet: bool,

    /// Rows a table shows at most (its first and last rows); 0 shows all.
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_rows: usize,

    /// Runs every statement even after one fails (the exit status is still
    /// 1 when any failed).
    #[arg(long)]
    pub continue_on_error: bool,

    /// Generates the eight TPC-H tables in memory first (scale factor 0.1,
    /// about 100 MB), so there is data to query without any download.
    #[arg(long)]
    pub demo: bool,

    /// Scale factor of the --demo data (implies --demo).
    #[arg(long, value_name = "SF", value_parser = parse_scale, allow_negative_numbers = true)]
    pub demo_scale: Option<f64>,
}

impl Args {
    /// The TPC-H scale factor to generate, if any.
    pub fn demo_scale(&self) -> Option<f64> {
        match (self.demo, self.demo_scale) {
            (_, Some(sf)) => Some(sf),
            (true, None) => Some(DEFAULT_DEMO_SCALE),
            (false, None) => None,
        }
    }
}

/// The scale factor of `--demo` and `CALL tpch()`.
pub const DEFAULT_DEMO_SCALE: f64 = 0.1;

/// Parses a positive, finite TPC-H scale factor.
pub fn parse_scale(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(sf) if sf > 0.0 && sf.is_finite() => Ok(sf),
        _ => Err(format!("a scale factor must be a positive number, got '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn demo_scale_implies_demo() {
        let a = Args::parse_from(["query", "--demo-scale", "0.01"]);
        assert_eq!(a.demo_scale(), Some(0.01));
        let a = Args::parse_from(["query", "--demo"]);
        assert_eq!(a.demo_scale(), Some(DEFAULT_DEMO_SCALE));
        assert!(Args::try_parse_from(["query", "--demo-scale", "-1"]).is_err());
    }
}
