//! Reading a policy file's text without trusting its metadata: a device or a pipe has a
//! length of 0 whatever it holds, and a pipe with no writer blocks whoever opens it.

use std::{
    fs::{File, Metadata, OpenOptions},
    io::Read,
    path::Path,
};

use super::file::MAX_FILE_BYTES;

/// The text of the policy file at `path` (a regular file, or a symlink to one), or what
/// is wrong with it. Anything else is refused before it is read, and again after it is
/// opened (it may have been swapped in between); a pipe is opened without waiting for a
/// writer. At most [`MAX_FILE_BYTES`] + 1 bytes are read, whatever the length says.
pub fn read(path: &Path) -> Result<String, String> {
    let cannot = |e: std::io::Error| format!("cannot read the policy file: {e}");
    regular(&std::fs::metadata(path).map_err(cannot)?)?;
    let file = open(path).map_err(cannot)?;
    regular(&file.metadata().map_err(cannot)?)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {} MiB", MAX_FILE_BYTES >> 20));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

/// `Ok` for a regular file; else what it is, for the message.
fn regular(meta: &Metadata) -> Result<(), String> {
    if meta.is_file() {
        return Ok(());
    }
    Err(format!(
        "not a regular file ({}); a policy file must be one",
        kind(meta)
    ))
}

fn kind(meta: &Metadata) -> &'static str {
    if meta.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    "not a file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_or_a_symlink_to_one_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.toml");
        std::fs::write(&file, "[[policy]]\n").unwrap();
        assert_eq!(read(&file).unwrap(), "[[policy]]\n");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.toml");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(read(&link).unwrap(), "[[policy]]\n");
        }
    }

    #[test]
    fn what_is_not_a_regular_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read(dir.path()).unwrap_err(),
            "not a regular file (a directory); a policy file must be one"
        );
        #[cfg(unix)]
        assert_eq!(
            read(Path::new("/dev/zero")).unwrap_err(),
            "not a regular file (a device); a policy file must be one"
        );
        assert!(
            read(&dir.path().join("missing"))
                .unwrap_err()
                .starts_with("cannot read")
        );
    }

    #[test]
    fn a_file_too_large_or_not_utf8_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES + 1]).unwrap();
        assert_eq!(read(&big).unwrap_err(), "larger than 4 MiB");
        let latin = dir.path().join("latin.toml");
        std::fs::write(&latin, b"# caf\xe9\n").unwrap();
        assert_eq!(read(&latin).unwrap_err(), "not UTF-8 text");
    }
}
