//! Handlers, compiled modules and the live route table.
//!
//! A [`Table`] (router + handlers) is immutable; the server reads the current one per request and a
//! reload, `--watch` or the control plane swaps in a whole new one ([`Live::swap`]), so in-flight
//! requests finish on the version they started with. Compiled modules are cached by sha256, so a table
//! rebuilt with an unchanged module does not compile it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::config::{HandlerSpec, ServeConfig};
use crate::invoke::{CompiledModule, Engine, Permissions};
use crate::records::lock;
use crate::router::Router;
use crate::Error;

/// A loaded handler: its spec, its compiled module and its permissions.
pub struct Handler {
    /// As configured.
    pub spec: HandlerSpec,
    /// The module that runs.
    pub module: CompiledModule,
    /// Policy and preopens.
    pub permissions: Permissions,
}

/// The routes and the handlers they lead to.
pub struct Table {
    /// The route table; `Match::handler` indexes `handlers`.
    pub router: Router,
    /// Handlers in the order the router was built with.
    pub handlers: Vec<Arc<Handler>>,
    /// Runs at once per handler (same order), after the fairness rule of [`Table::new`].
    pub concurrency: Vec<usize>,
}

impl Table {
    /// Builds the router; overlapping routes are an error. With more than one handler and more than
    /// one worker, no handler may hold every worker: its concurrency is capped at workers − 1, so a
    /// flooded or looping handler leaves a worker for the others.
    pub fn new(handlers: Vec<Arc<Handler>>, workers: usize) -> Result<Self, Error> {
        let router = Router::new(
            handlers
                .iter()
                .map(|h| (h.spec.name.as_str(), h.spec.routes.as_slice())),
        )?;
        let shared = handlers.len() > 1 && workers > 1;
        let concurrency = handlers
            .iter()
            .map(|h| {
                let cap = h.spec.limits.max_concurrency;
                if shared {
                    cap.min(workers - 1)
                } else {
                    cap
                }
            })
            .collect();
        Ok(Table {
            router,
            handlers,
            concurrency,
        })
    }

    /// The handler named `name`.
    pub fn handler(&self, name: &str) -> Option<&Arc<Handler>> {
        self.handlers.iter().find(|h| h.spec.name == name)
    }
}

/// The current table, swapped atomically.
pub struct Live {
    table: RwLock<Arc<Table>>,
}

impl Live {
    /// Starts with `table`.
    pub fn new(table: Table) -> Self {
        Live {
            table: RwLock::new(Arc::new(table)),
        }
    }

    /// The table in force now.
    pub fn current(&self) -> Arc<Table> {
        self.table.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `table` in force; requests already routed keep the old one.
    pub fn swap(&self, table: Table) {
        *self.table.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(table);
    }
}

/// Compiles handlers, caching modules by sha256.
pub struct Registry {
    engine: Arc<Engine>,
    modules: Mutex<HashMap<(String, Option<String>), CompiledModule>>,
}

impl Registry {
    /// A registry compiling on `engine`.
    pub fn new(engine: Arc<Engine>) -> Self {
        Registry {
            engine,
            modules: Mutex::new(HashMap::new()),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Compiles `bytes` with entry point `entry` (or takes the cached module with the same sha256
    /// and entry); the runtime checks its imports and entry point.
    pub fn module(&self, bytes: &[u8], entry: Option<&str>) -> Result<CompiledModule, Error> {
        let key = (crate::invoke::sha256_hex(bytes), entry.map(str::to_owned));
        if let Some(m) = lock(&self.modules).get(&key) {
            return Ok(m.clone());
        }
        let module = self.engine.compile(bytes, entry)?;
        lock(&self.modules).insert(key, module.clone());
        Ok(module)
    }

    /// Drops cached modules no handler in `table` uses.
    pub fn retain_used(&self, table: &Table) {
        lock(&self.modules).retain(|(sha, entry), _| {
            table
                .handlers
                .iter()
                .any(|h| &h.module.sha256 == sha && &h.spec.entry == entry)
        });
    }

    /// Loads a handler from its spec, reading the module file.
    pub fn load(&self, spec: HandlerSpec) -> Result<Handler, Error> {
        let bytes = std::fs::read(&spec.module).map_err(|e| {
            Error::new(format!(
                "handlers.{}: cannot read {}: {e}",
                spec.name,
                spec.module.display()
            ))
        })?;
        self.load_bytes(spec, &bytes)
    }

    /// Loads a handler from its spec and the module's bytes.
    pub fn load_bytes(&self, spec: HandlerSpec, bytes: &[u8]) -> Result<Handler, Error> {
        let name = spec.name.clone();
        let at = |e: Error| Error::new(format!("handlers.{name}: {}: {e}", spec.module.display()));
        let module = self.module(bytes, spec.entry.as_deref()).map_err(at)?;
        let permissions = Permissions::new(&spec.grants, &spec.limits)
            .map_err(|e| Error::new(format!("handlers.{name}: {e}")))?;
        Ok(Handler {
            spec,
            module,
            permissions,
        })
    }

    /// Loads every handler of `config` and builds the table.
    pub fn load_all(&self, config: &ServeConfig) -> Result<Table, Error> {
        let handlers = config
            .handlers
            .iter()
            .map(|spec| self.load(spec.clone()).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Table::new(handlers, config.server.workers)
    }
}
