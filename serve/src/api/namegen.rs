//! Generated handler names, as wasmcloud's `namegen` made them: adjective-noun-number, easy to
//! say and type, safe in a URL and a DNS label.

const ADJECTIVES: &[&str] = &[
    "amber", "brave", "calm", "dawn", "eager", "fair", "gentle", "hazel", "ivory", "jolly", "keen",
    "lucid", "misty", "noble", "olive", "proud", "quiet", "rapid", "silver", "tidy", "urban",
    "vivid", "warm", "young", "zesty", "bold", "crisp", "deep", "early", "frosty", "golden",
    "humble",
];

const NOUNS: &[&str] = &[
    "tern", "heron", "gull", "puffin", "plover", "osprey", "kestrel", "wren", "finch", "swift",
    "lark", "robin", "egret", "ibis", "crane", "stork", "raven", "owl", "falcon", "petrel",
    "curlew", "dunlin", "godwit", "avocet", "gannet", "shag", "skua", "auk", "eider", "grebe",
    "loon", "rail",
];

/// A new random name such as `misty-heron-4821`.
pub fn generate() -> String {
    let mut r = [0u8; 4];
    // Names need no secrecy; if the OS has no randomness, a fixed name still works once.
    let _ = getrandom::fill(&mut r);
    let adjective = ADJECTIVES[r[0] as usize % ADJECTIVES.len()];
    let noun = NOUNS[r[1] as usize % NOUNS.len()];
    let number = u16::from_le_bytes([r[2], r[3]]) % 9000 + 1000;
    format!("{adjective}-{noun}-{number}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_valid_handler_names() {
        for _ in 0..100 {
            let name = super::generate();
            crate::store::validate_name(&name).unwrap();
            assert_eq!(name.split('-').count(), 3, "{name}");
        }
    }
}
