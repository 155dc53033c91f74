//! `qunguan policy check` on what is not a regular file: a device, a pipe with no writer,
//! a directory. Each is refused at once (exit 2, naming the problem), neither read without
//! end nor waited on.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use crate::{fake::FakeDingTalk, helpers::*, process::binary};

/// How long a refusal may take (it reads nothing).
const PROMPTLY: Duration = Duration::from_secs(2);

/// A child process that is killed if the test gives up on it.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `qunguan policy check FILE` under a 1 GiB address-space limit: its exit code and
/// stderr, once it has exited, which must be within [`PROMPTLY`].
async fn check(fake: &FakeDingTalk, dir: &Path, file: &Path) -> (Option<i32>, String) {
    let mut sh = Command::new("sh");
    sh.args([
        "-c",
        "ulimit -v 1048576 && exec \"$0\" policy check \"$1\"",
        env!("CARGO_BIN_EXE_qunguan"),
    ])
    .arg(file);
    let (mut command, _) = binary(sh, fake, dir, &[]);
    let mut child = Running(command.spawn().unwrap());
    let what = format!("{} to be refused", file.display());
    eventually_within(PROMPTLY, &what, async || {
        matches!(child.0.try_wait(), Ok(Some(_)))
    })
    .await;
    let mut stderr = String::new();
    if let Some(mut pipe) = child.0.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut stderr).unwrap();
    }
    let status = child.0.wait().unwrap();
    (status.code(), stderr)
}

#[tokio::test]
async fn a_device_a_pipe_or_a_directory_is_refused_at_once() {
    let fake = FakeDingTalk::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("policy.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(made.success());
    let folder = dir.path().join("policies");
    std::fs::create_dir(&folder).unwrap();
    for (file, named) in [
        (Path::new("/dev/zero"), "a device"),
        (fifo.as_path(), "a pipe"),
        (folder.as_path(), "a directory"),
    ] {
        let (code, stderr) = check(&fake, dir.path(), file).await;
        assert_eq!(code, Some(2), "{}: {stderr}", file.display());
        assert!(
            stderr.contains(&format!("not a regular file ({named})")),
            "{}: {stderr}",
            file.display()
        );
    }
}
