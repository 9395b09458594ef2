//! A build without the control plane (a board's): its client verbs are named as missing, as a
//! usage error, instead of clap's "unrecognized subcommand".

use std::process::{Command, Stdio};

use crate::tern_bin;

fn tern(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(tern_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("tern runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_client_verbs_say_this_build_has_no_control_plane() {
    for verb in [
        "login", "whoami", "handler", "logs", "invoke", "namegen", "token",
    ] {
        let (status, stderr) = tern(&[verb, "--help"]);
        assert_eq!(status, Some(2), "{verb}: {stderr}");
        let expected = format!("error: `tern {verb}`: this build of tern has no control plane");
        assert!(stderr.starts_with(&expected), "{stderr}");
    }
    // Other unknown words are still clap's.
    let (status, stderr) = tern(&["logn"]);
    assert_eq!(status, Some(2));
    assert!(stderr.contains("unrecognized subcommand"), "{stderr}");
}
