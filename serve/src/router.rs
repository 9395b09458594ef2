//! The route table: (host, methods, path) → handler.
//!
//! Precedence, first to last: an exact host, then a wildcard host (`*.example.com`, longer suffix
//! first), then any host; within the best host, the path with the most literal segments, an exact path
//! before a trailing `/...`, then the longer pattern. When the best path matches but its routes do not
//! take the method, the answer is 405 with `Allow` (no fallback to a less specific path). Two routes
//! that could match one request at the same precedence are an error at load time.
//!
//! Matching is segment-aware on a normalised path: `//` collapses, `.` and `..` are resolved (never
//! above the root), and each segment is percent-decoded after splitting, so `%2F` stays inside a
//! segment. `/static/...` matches `/static` and `/static/a/b`, never `/staticfoo`.

use crate::config::RouteSpec;
use crate::Error;

/// One segment of a path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// A host pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// The suffix after `*`, with its leading dot: `.example.com`.
    Wildcard(String),
    Any,
}

impl HostPattern {
    fn parse(host: Option<&str>) -> Result<Self, Error> {
        match host {
            None | Some("") | Some("*") => Ok(HostPattern::Any),
            Some(h) => {
                let h = h.to_ascii_lowercase();
                if let Some(suffix) = h.strip_prefix('*') {
                    if !suffix.starts_with('.') || suffix.len() < 2 || suffix[1..].contains('*') {
                        return Err(Error::new(format!(
                            "host {h:?}: a wildcard host is written *.example.com"
                        )));
                    }
                    Ok(HostPattern::Wildcard(suffix.to_owned()))
                } else if h.contains('*') || h.contains('/') {
                    Err(Error::new(format!("host {h:?}: not a host name")))
                } else {
                    Ok(HostPattern::Exact(h))
                }
            }
        }
    }

    /// Lower is better; `None` when the host does not match.
    fn rank(&self, host: &str) -> Option<HostRank> {
        match self {
            HostPattern::Exact(h) => (h == host).then_some((0, 0)),
            HostPattern::Wildcard(suffix) => (host.len() > suffix.len() && host.ends_with(suffix))
                .then_some((1, usize::MAX - suffix.len())),
            HostPattern::Any => Some((2, 0)),
        }
    }

    fn shown(&self) -> String {
        match self {
            HostPattern::Exact(h) => h.clone(),
            HostPattern::Wildcard(s) => format!("*{s}"),
            HostPattern::Any => "*".into(),
        }
    }
}

/// How well a host matched: lower is better.
type HostRank = (u8, usize);
/// How specific a path pattern is: lower is better.
type PathRank = (usize, bool, usize);

/// A compiled route.
#[derive(Debug, Clone)]
struct Route {
    host: HostPattern,
    methods: Option<Vec<String>>,
    segments: Vec<Segment>,
    wildcard: bool,
    pattern: String,
    handler: usize,
}

impl Route {
    fn literals(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// Lower sorts first: more literals, exact before wildcard, longer pattern.
    fn path_rank(&self) -> PathRank {
        (
            usize::MAX - self.literals(),
            self.wildcard,
            usize::MAX - self.segments.len(),
        )
    }

    fn allows(&self, method: &str) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|m| m.iter().any(|x| x == method))
    }

    /// Whether some path matches both patterns.
    fn paths_intersect(&self, other: &Route) -> bool {
        let (a, b) = (&self.segments, &other.segments);
        let common = a.len().min(b.len());
        let compatible = a[..common].iter().zip(&b[..common]).all(|pair| match pair {
            (Segment::Literal(x), Segment::Literal(y)) => x == y,
            _ => true,
        });
        compatible
            && (a.len() == b.len()
                || (a.len() < b.len() && self.wildcard)
                || (b.len() < a.len() && other.wildcard))
    }

    fn methods_intersect(&self, other: &Route) -> bool {
        match (&self.methods, &other.methods) {
            (Some(a), Some(b)) => a.iter().any(|m| b.contains(m)),
            _ => true,
        }
    }

    /// Path parameters and the rest after a trailing wildcard, when `path` matches.
    fn matches(&self, path: &[String]) -> Option<Vec<(String, String)>> {
        if path.len() < self.segments.len() || (!self.wildcard && path.len() != self.segments.len())
        {
            return None;
        }
        let mut params = Vec::new();
        for (pattern, actual) in self.segments.iter().zip(path) {
            match pattern {
                Segment::Literal(l) if l == actual => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), actual.clone())),
            }
        }
        Some(params)
    }
}

/// What a request matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the handler in the table it was built with.
    pub handler: usize,
    /// The route's pattern, as written (`/users/:id`).
    pub pattern: String,
    /// The matched host pattern (`*` for any).
    pub host_pattern: String,
    /// Decoded path parameters in pattern order.
    pub params: Vec<(String, String)>,
    /// Normalised path segments the route's own segments took (SCRIPT_NAME's part).
    pub script_segments: usize,
}

/// The outcome of routing one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// A handler takes it.
    Found(Match),
    /// The path matched, the method did not: the methods that would.
    MethodNotAllowed(Vec<String>),
    /// Nothing matched.
    NotFound,
}

/// The route table.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Builds the table from each handler's routes; overlapping routes are an error.
    pub fn new<'a>(
        handlers: impl IntoIterator<Item = (&'a str, &'a [RouteSpec])>,
    ) -> Result<Self, Error> {
        let mut routes: Vec<(Route, &str)> = Vec::new();
        for (index, (name, specs)) in handlers.into_iter().enumerate() {
            for spec in specs {
                let route = compile(spec, index)
                    .map_err(|e| Error::new(format!("handlers.{name}: {e}")))?;
                for (other, other_name) in &routes {
                    if other.host == route.host
                        && other.path_rank() == route.path_rank()
                        && other.paths_intersect(&route)
                        && other.methods_intersect(&route)
                    {
                        return Err(Error::new(format!(
                            "overlapping routes: {} {} (handler {other_name}) and {} {} (handler {name}) can match the same request",
                            other.host.shown(), other.pattern, route.host.shown(), route.pattern
                        )));
                    }
                }
                routes.push((route, name));
            }
        }
        Ok(Router {
            routes: routes.into_iter().map(|(r, _)| r).collect(),
        })
    }

    /// Routes a request: `host` without its port, `path` the raw (still percent-encoded) path.
    pub fn route(&self, host: &str, method: &str, path: &str) -> Routed {
        let host = host.to_ascii_lowercase();
        let segments = normalise(path);
        let mut best: Option<(HostRank, PathRank)> = None;
        for route in &self.routes {
            let Some(host_rank) = route.host.rank(&host) else {
                continue;
            };
            if route.matches(&segments).is_none() {
                continue;
            }
            let key = (host_rank, route.path_rank());
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        let Some(best) = best else {
            return Routed::NotFound;
        };
        let mut allowed = Vec::new();
        for route in &self.routes {
            let Some(host_rank) = route.host.rank(&host) else {
                continue;
            };
            if (host_rank, route.path_rank()) != best {
                continue;
            }
            let Some(params) = route.matches(&segments) else {
                continue;
            };
            if route.allows(method) {
                return Routed::Found(Match {
                    handler: route.handler,
                    pattern: route.pattern.clone(),
                    host_pattern: route.host.shown(),
                    params,
                    script_segments: route.segments.len(),
                });
            }
            allowed.extend(route.methods.iter().flatten().cloned());
        }
        allowed.sort();
        allowed.dedup();
        Routed::MethodNotAllowed(allowed)
    }

    /// One line per route: host, methods, pattern and handler index, for `--check`.
    pub fn describe(&self) -> Vec<(String, String, String, usize)> {
        let mut rows: Vec<&Route> = self.routes.iter().collect();
        rows.sort_by_key(|r| (r.host.rank_order(), r.path_rank()));
        rows.into_iter()
            .map(|r| {
                (
                    r.host.shown(),
                    r.methods.as_ref().map_or("*".into(), |m| m.join(",")),
                    r.pattern.clone(),
                    r.handler,
                )
            })
            .collect()
    }
}

impl HostPattern {
    fn rank_order(&self) -> (u8, usize) {
        match self {
            HostPattern::Exact(_) => (0, 0),
            HostPattern::Wildcard(s) => (1, usize::MAX - s.len()),
            HostPattern::Any => (2, 0),
        }
    }
}

fn compile(spec: &RouteSpec, handler: usize) -> Result<Route, Error> {
    let path = &spec.path;
    if !path.starts_with('/') {
        return Err(Error::new(format!("route {path:?}: a path starts with /")));
    }
    let (body, wildcard) = match path.strip_suffix("/...") {
        Some(rest) => (rest, true),
        None => (path.as_str(), false),
    };
    let mut segments = Vec::new();
    let mut names = Vec::new();
    for raw in body.split('/').filter(|s| !s.is_empty()) {
        if raw == "..." || raw == "." || raw == ".." || raw.contains('*') {
            return Err(Error::new(format!(
                "route {path:?}: {raw:?} is not a segment (a wildcard is a trailing /...)"
            )));
        }
        if let Some(name) = raw.strip_prefix(':') {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::new(format!(
                    "route {path:?}: parameter {raw:?} needs a name of letters, digits and _"
                )));
            }
            if names.contains(&name) {
                return Err(Error::new(format!(
                    "route {path:?}: parameter {raw:?} twice"
                )));
            }
            names.push(name);
            segments.push(Segment::Param(name.to_owned()));
        } else {
            segments.push(Segment::Literal(percent_decode(raw)));
        }
    }
    if let Some(methods) = &spec.methods {
        if methods.is_empty() {
            return Err(Error::new(format!("route {path:?}: methods is empty")));
        }
        for m in methods {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Error::new(format!("route {path:?}: {m:?} is not a method")));
            }
        }
    }
    Ok(Route {
        host: HostPattern::parse(spec.host.as_deref())?,
        methods: spec.methods.clone(),
        segments,
        wildcard,
        pattern: path.clone(),
        handler,
    })
}

/// Splits a raw path into normalised, decoded segments: empty and `.` segments dropped, `..` pops.
pub fn normalise(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in path.split('/') {
        match raw {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            _ => {
                let decoded = percent_decode(raw);
                match decoded.as_str() {
                    "." => {}
                    ".." => {
                        out.pop();
                    }
                    _ => out.push(decoded),
                }
            }
        }
    }
    out
}

/// Percent-decodes text; invalid escapes stay as written, invalid UTF-8 is replaced.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str, methods: Option<&[&str]>) -> RouteSpec {
        RouteSpec {
            host: None,
            methods: methods.map(|m| m.iter().map(|s| s.to_string()).collect()),
            path: path.into(),
        }
    }

    #[test]
    fn overlaps_are_refused_and_disjoint_methods_are_not() {
        let both = |a: RouteSpec, b: RouteSpec| {
            let (a, b) = ([a], [b]);
            Router::new([("a", &a[..]), ("b", &b[..])])
        };
        assert!(both(route("/x", None), route("/x", None)).is_err());
        assert!(both(route("/a/:x", None), route("/:y/b", None)).is_err());
        assert!(both(route("/x", Some(&["GET"])), route("/x", Some(&["POST"]))).is_ok());
        assert!(both(route("/x/...", None), route("/x/:id", None)).is_ok());
        assert!(both(route("/x/*", None), route("/y", None)).is_err());
    }

    #[test]
    fn normalising() {
        assert_eq!(normalise("//a/./b/../c/%2e%2e/d%2Fe"), ["a", "d/e"]);
        assert_eq!(normalise("/../../x"), ["x"]);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
