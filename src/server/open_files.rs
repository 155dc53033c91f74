//! The open-file limit. A process starts with the soft limit of whoever started it, often
//! 1,024 (systemd's default), while the hard limit allows far more; every connection,
//! incoming or to DingTalk, is a file descriptor. Start-up raises the soft limit to the
//! hard one and logs both; where that is not permitted it says so and carries on.

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, logging before and after.
#[cfg(unix)]
pub fn raise() {
    let Ok((soft, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) else {
        tracing::warn!("open files: cannot read the limit");
        return;
    };
    match rlimit::increase_nofile_limit(hard) {
        Ok(raised) => tracing::info!(
            soft_before = soft,
            soft = raised,
            hard,
            "open files: the soft limit is raised to the hard one"
        ),
        Err(e) => tracing::warn!(
            soft,
            hard,
            error = %e,
            "open files: cannot raise the soft limit; it stays"
        ),
    }
}

/// No `RLIMIT_NOFILE` to raise.
#[cfg(not(unix))]
pub fn raise() {}
