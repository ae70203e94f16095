//! The session's catalog: tables and views by name. Names are
//! case-insensitive unless quoted, as in PostgreSQL.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::datasource::TableProvider;
use crate::error::Result;
use crate::logical::LogicalPlan;
use crate::plan_err;

/// What a name in the catalog refers to.
#[derive(Clone, Debug)]
pub enum CatalogEntry {
    /// A table with data.
    Table(Arc<dyn TableProvider>),
    /// A stored query, expanded where it is used.
    View(Arc<LogicalPlan>),
}

impl CatalogEntry {
    /// `table` or `view`.
    pub fn kind(&self) -> &'static str {
        match self {
            CatalogEntry::Table(_) => "table",
            CatalogEntry::View(_) => "view",
        }
    }
}

/// Tables and views of a session.
#[derive(Debug, Default)]
pub struct Catalog {
    entries: RwLock<BTreeMap<String, CatalogEntry>>,
}

impl Catalog {
    /// Adds an entry; with `replace` an existing entry of the same name is
    /// replaced, otherwise it is an error.
    pub fn register(&self, name: &str, entry: CatalogEntry, replace: bool) -> Result<()> {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if !replace && let Some(old) = entries.get(name) {
            plan_err!("a {} named '{name}' already exists", old.kind());
        }
        entries.insert(name.to_string(), entry);
        Ok(())
    }

    /// Looks a name up.
    pub fn get(&self, name: &str) -> Option<CatalogEntry> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Removes an entry of the given kind (`table` or `view`).
    pub fn drop_entry(&self, name: &str, kind: &str, if_exists: bool) -> Result<bool> {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        match entries.get(name) {
            None if if_exists => Ok(false),
            None => plan_err!("{kind} '{name}' does not exist"),
            Some(e) if e.kind() != kind => {
                plan_err!(
                    "'{name}' is a {}, not a {kind}: use DROP {}",
                    e.kind(),
                    e.kind().to_uppercase()
                )
            }
            Some(_) => {
                entries.remove(name);
                Ok(true)
            }
        }
    }

    /// All names with their kind, sorted.
    pub fn list(&self) -> Vec<(String, &'static str)> {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.kind()))
            .collect()
    }

    /// Names closest to `name` (for "did you mean" hints).
    pub fn similar_names(&self, name: &str) -> Vec<String> {
        let names: Vec<String> = self.list().into_iter().map(|(n, _)| n).collect();
        crate::sql::closest(name, &names)
    }
}
