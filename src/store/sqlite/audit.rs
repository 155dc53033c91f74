//! SQLite's audit trail, appended by one thread with group commit: every record that
//! queued while one transaction committed goes into the next, so a burst of audited work
//! (a wave of group events, many admins at once) costs a commit per batch rather than per
//! record, and no blocking-pool task each. Whoever appends still waits until its record is
//! committed, so `/audit` reads it right after.

use std::{
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::queries;
use crate::store::{AuditRecord, StoreError};

/// The most records written in one transaction.
const BATCH: usize = 512;

type Job = (AuditRecord, oneshot::Sender<Result<(), StoreError>>);

/// The queue to the audit writer thread, which runs until this is dropped.
pub struct Appender {
    queue: mpsc::Sender<Job>,
}

impl Appender {
    pub fn start(conn: Arc<Mutex<Connection>>) -> Result<Self, StoreError> {
        let queue = super::spawn_writer("qunguan-audit", conn, BATCH, Duration::ZERO, write_batch)?;
        Ok(Self { queue })
    }

    /// Appends `record`, once committed.
    pub async fn append(&self, record: AuditRecord) -> Result<(), StoreError> {
        let stopped = || StoreError::Task("the audit writer stopped".to_owned());
        let (done, committed) = oneshot::channel();
        self.queue.send((record, done)).map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?
    }
}

/// One batch, in one transaction; should that fail, one record at a time, so a record
/// that cannot be written fails alone.
fn write_batch(conn: &mut Connection, batch: Vec<Job>) {
    match write_all(conn, &batch) {
        Ok(()) => {
            for (_, done) in batch {
                let _ = done.send(Ok(()));
            }
        }
        Err(_) => {
            for (record, done) in batch {
                let _ = done.send(queries::record_audit(conn, &record));
            }
        }
    }
}

fn write_all(conn: &mut Connection, batch: &[Job]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for (record, _) in batch {
        queries::record_audit(&tx, record)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{MsgId, OpenConversationId};

    fn migrated() -> Arc<Mutex<Connection>> {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::prepare(&mut conn).unwrap();
        Arc::new(Mutex::new(conn))
    }

    fn record(n: usize) -> AuditRecord {
        AuditRecord {
            at_ms: n as i64,
            msg_id: MsgId::parse(&format!("msg{n}")).unwrap(),
            conversation: OpenConversationId::parse("cidAUDIT").unwrap(),
            chat: None,
            sender_staff_id: None,
            sender_nick: String::new(),
            command: "info".to_owned(),
            args: String::new(),
            outcome: "done".to_owned(),
            errcode: None,
            request_id: None,
            duration_ms: 0,
            source: None,
        }
    }

    fn count(conn: &Mutex<Connection>) -> i64 {
        let conn = conn.lock().unwrap();
        conn.query_row("SELECT count(*) FROM audit", [], |row| row.get(0))
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_record_of_a_burst_is_committed_before_its_writer_hears_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let mut conn = Connection::open(&path).unwrap();
        super::super::prepare(&mut conn).unwrap();
        let appender = Arc::new(Appender::start(Arc::new(Mutex::new(conn))).unwrap());
        // Another connection, as another reader of the file would see it.
        let reader = Arc::new(Mutex::new(Connection::open(&path).unwrap()));
        let writers: Vec<_> = (0..300)
            .map(|n| {
                let (appender, reader) = (appender.clone(), reader.clone());
                tokio::spawn(async move {
                    appender.append(record(n)).await.unwrap();
                    let found: i64 = reader
                        .lock()
                        .unwrap()
                        .query_row(
                            "SELECT count(*) FROM audit WHERE msg_id = ?1",
                            [format!("msg{n}")],
                            |row| row.get(0),
                        )
                        .unwrap();
                    assert_eq!(found, 1, "record {n} is in the file once appended");
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        assert_eq!(count(&reader), 300);
    }

    #[test]
    fn a_record_that_cannot_be_written_fails_alone() {
        let conn = migrated();
        conn.lock()
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.msg_id = 'msg1'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        // The three are one batch.
        let (batch, answers): (Vec<Job>, Vec<_>) = (0..3)
            .map(|n| {
                let (done, answer) = oneshot::channel();
                ((record(n), done), answer)
            })
            .unzip();
        write_batch(&mut conn.lock().unwrap(), batch);
        let written: Vec<bool> = answers
            .into_iter()
            .map(|mut answer| answer.try_recv().unwrap().is_ok())
            .collect();
        assert_eq!(written, [true, false, true]);
        assert_eq!(count(&conn), 2);
    }
}
