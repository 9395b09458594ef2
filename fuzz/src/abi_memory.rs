//! What an ABI guest's memory holds: a fixed layout, the strings its pointers aim at the sandbox's
//! edges, iovec tables and poll subscriptions, several of them hostile.

use std::fmt::Write as _;

use crate::sandbox::Sandbox;

/// Pages of guest memory (fixed, so "the end of memory" is a known address).
pub const PAGES: u32 = 2;
pub const MEMORY_END: u32 = PAGES * 65536;
/// Where `path_open` and friends are told to write a new fd; later calls load their handle from it.
pub const FD_SLOT: u32 = 512;
/// The buffer reads fill and writes send, so a read escape reaches stdout.
pub const BUF: u32 = 4096;
pub const BUF_LEN: u32 = 256;
pub const IOVECS: u32 = 8192;
pub const SUBSCRIPTIONS: u32 = 12288;
pub const STRINGS: u32 = 16384;

/// The strings placed in guest memory: paths and URLs aimed at the sandbox's edges.
pub struct Strings {
    pub urls: Vec<(u32, u32)>,
    pub url_texts: Vec<String>,
    pub paths: Vec<(u32, u32)>,
    pub path_texts: Vec<String>,
    pub targets: Vec<(u32, u32)>,
    pub keys: Vec<(u32, u32)>,
    pub all: Vec<(u32, u32)>,
    pub data: Vec<u8>,
}

impl Strings {
    pub fn new(sandbox: &Sandbox) -> Strings {
        let root = sandbox.root.display().to_string();
        let grant = sandbox.grant().display().to_string();
        let long = "a/".repeat(2100);
        let paths: Vec<String> = [
            "a.txt",
            "sub",
            "sub/b.txt",
            "sub/deeper/c.txt",
            "new.txt",
            "newdir",
            "lnk",
            "lnk2",
            "link_in",
            "link_out",
            "link_up",
            "link_abs",
            "link_dangling",
            "link_up/canary.txt",
            "link_dangling",
            "private",
            "private/secret.txt",
            "p2",
            "p2/secret.txt",
            "sub/private",
            "sub/private/secret.txt",
            "../canary.txt",
            "../new.txt",
            "../../canary.txt",
            "../../new.txt",
            "..",
            ".",
            "",
            "/",
            "sub/../../canary.txt",
            "sub/../a.txt",
            "a.txt/",
            "./private/../private/secret.txt",
            "%2e%2e/canary.txt",
            "/etc/passwd",
            "lnk/x",
            "a.txt\0/../../canary.txt",
            "sub//b.txt",
            "p2/private/secret.txt",
            &long,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("{grant}/a.txt"), format!("{root}/canary.txt")])
        .collect();
        let targets: Vec<String> = [
            "../new_outside.txt",
            "../../new_outside.txt",
            "../canary.txt",
            "a.txt",
            "..",
            "../..",
            "private/secret.txt",
            "private",
            "sub/../../absent",
            "link_out",
            "/tmp",
            "lnk",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("{root}/box/abs_outside.txt"),
            format!("{root}/canary.txt"),
            format!("{grant}/private/secret.txt"),
        ])
        .collect();
        let file = |rest: &str| format!("file://{grant}/{rest}");
        let mut urls: Vec<String> = Vec::new();
        for name in [
            "a.txt",
            "new.txt",
            "lnk",
            "lnk2",
            "link_out",
            "link_up/canary.txt",
            "link_abs",
            "link_dangling",
            "private/secret.txt",
            "p2/secret.txt",
            "sub/private/secret.txt",
            "../canary.txt",
            "%2e%2e/canary.txt",
            "sub/%2E%2E/%2e%2e/canary.txt",
            "sub/../../x.txt",
            "newdir/f.txt",
            "sub",
            "%2fprivate/secret.txt",
            "private%2fsecret.txt",
        ] {
            urls.push(file(name));
            for mode in ["w", "a", "rw", "r", "x"] {
                urls.push(format!("{}?mode={mode}", file(name)));
            }
        }
        urls.extend([
            format!("file://{root}/canary.txt"),
            format!("file://{root}/canary.txt?mode=w"),
            format!("file://{root}/box/new.txt?mode=w"),
            format!("file://localhost{grant}/a.txt"),
            format!("file://localhost{root}/canary.txt?mode=a"),
            format!("FILE://{grant}/a.txt?mode=w"),
            format!("file:{root}/canary.txt"),
            format!("file:{grant}/../canary.txt?mode=w"),
            format!("file://{grant}//..//../canary.txt?mode=w"),
            format!("file://{grant}/a.txt#../../canary.txt"),
            format!("file://{grant}/a.txt?mode=w&mode=r"),
            format!("file://{grant}/..%00/canary.txt"),
            format!("file://{grant}\\..\\canary.txt"),
            format!("file://{}/ro/r.txt?mode=w", root.trim_end_matches('/')),
            format!("file://{root}/box/ro/r.txt?mode=w"),
            format!("file://{root}/box/ro/r.txt"),
            format!("file://{}/a.txt", grant.to_uppercase()),
        ]);
        urls.extend(
            [
                "log://?prefix=x",
                "log://?prefix=%0aerror: forged",
                "log://?prefix=%1b[31m",
                "log://",
                "null://",
                "zero://",
                "random://",
                "fd://0",
                "fd://1",
                "fd://2",
                "fd://3",
                "fd://-1",
                "fd://99999999999",
                "http://127.0.0.1:1/",
                "http://169.254.169.254/latest",
                "https://localhost/",
                "tcp://127.0.0.1:1",
                "tls://127.0.0.1:1",
                "dns://localhost",
                "dns://",
                "",
                "file://",
                "file:///",
                "file:///etc/passwd",
                "file:///proc/self/mem?mode=w",
                "://",
                "no-scheme",
                "zero://?size=99999999999",
                "random://?x=%zz",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        urls.push(format!("file://{grant}/{}", "%2e%2e/".repeat(600)));
        let keys: Vec<String> = ["FUZZ", "PATH", "", "FUZZ\0", "=", "HOME"]
            .iter()
            .map(|s| s.to_string())
            .collect();

        let mut strings = Strings {
            urls: Vec::new(),
            url_texts: urls.clone(),
            paths: Vec::new(),
            path_texts: paths.clone(),
            targets: Vec::new(),
            keys: Vec::new(),
            all: Vec::new(),
            data: Vec::new(),
        };
        for (list, texts) in [(0, &paths), (1, &targets), (2, &urls), (3, &keys)] {
            for text in texts {
                let place = strings.add(text.as_bytes());
                match list {
                    0 => strings.paths.push(place),
                    1 => strings.targets.push(place),
                    2 => strings.urls.push(place),
                    _ => strings.keys.push(place),
                }
            }
        }
        strings.add(&[0xff, 0xfe, b'/', 0xc0, 0xaf]); // not UTF-8
        strings
    }

    /// Appends `bytes` and a NUL (for Dagger's `open`); returns its address and length.
    fn add(&mut self, bytes: &[u8]) -> (u32, u32) {
        let place = (STRINGS + self.data.len() as u32, bytes.len() as u32);
        self.data.extend_from_slice(bytes);
        self.data.push(0);
        self.all.push(place);
        place
    }
}

/// Iovec tables: `(address, entries)`; several point past the end of memory or claim huge lengths.
pub fn iovec_tables() -> (Vec<u8>, Vec<(u32, u32)>) {
    let tables: Vec<Vec<(u32, u32)>> = vec![
        vec![(BUF, BUF_LEN)],
        vec![(BUF, 64), (BUF + 64, 192)],
        vec![(BUF, 64), (BUF + 64, 1 << 20)],
        vec![(MEMORY_END - 8, 16)],
        vec![(MEMORY_END, 1)],
        vec![(u32::MAX - 15, 32)],
        vec![(BUF, u32::MAX)],
        vec![(BUF, i32::MAX as u32), (BUF, i32::MAX as u32)],
        (0..64).map(|i| (BUF + i * 4, 4)).collect(),
        vec![(BUF, 0), (BUF, BUF_LEN)],
    ];
    let mut data = Vec::new();
    let mut places = Vec::new();
    for table in tables {
        places.push((IOVECS + data.len() as u32, table.len() as u32));
        for (ptr, len) in table {
            data.extend_from_slice(&ptr.to_le_bytes());
            data.extend_from_slice(&len.to_le_bytes());
        }
    }
    (data, places)
}

/// poll_oneoff subscription arrays `(address, count)`; with `sleepy`, one waits far past any deadline.
pub fn subscriptions(sleepy: bool) -> (Vec<u8>, Vec<(u32, u32)>) {
    // (tag, clock id or fd, timeout ns, flags)
    let mut sets: Vec<Vec<(u8, u32, u64, u16)>> = vec![
        vec![(0, 1, 1_000_000, 0)],
        vec![(0, 0, 0, 0)],
        vec![(1, 0, 0, 0)],
        vec![(2, 1, 0, 0)],
        vec![(1, 3, 0, 0), (0, 1, 1_000, 0)],
        vec![(7, 0, 0, 0)],
        vec![(0, 99, 1, 0)],
        vec![(1, 12345, 0, 0), (2, 4, 0, 0)],
    ];
    if sleepy {
        sets.push(vec![(0, 1, u64::MAX, 0)]);
        sets.push(vec![(0, 0, u64::MAX, 1)]);
    }
    let mut data = Vec::new();
    let mut places = Vec::new();
    for set in sets {
        places.push((SUBSCRIPTIONS + data.len() as u32, set.len() as u32));
        for (i, (tag, id, timeout, flags)) in set.into_iter().enumerate() {
            let mut sub = [0u8; 48];
            sub[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            sub[8] = tag;
            sub[16..20].copy_from_slice(&id.to_le_bytes());
            sub[24..32].copy_from_slice(&timeout.to_le_bytes());
            sub[40..42].copy_from_slice(&flags.to_le_bytes());
            data.extend_from_slice(&sub);
        }
    }
    (data, places)
}

/// Writes `bytes` as a WebAssembly text string literal.
pub fn wat_string(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:02x}");
        }
    }
    s
}
