//! The schema, as files per backend (`migrations/sqlite/`, `migrations/postgres/`) compiled
//! in, and the one rule both backends apply them by: in order, each once, and never to a
//! database a newer qunguan has migrated further than this build knows.
//!
//! Both lists come from one (the same versions and names, by construction); a test holds
//! the two backends' files to the same tables and columns once applied
//! (`tests/api/store_contract.rs`).

/// One schema version.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// 1, 2, …: the number of migrations a database has had once this one ran.
    pub version: i64,
    /// The file's name without `.sql`: `0001_bindings`.
    pub name: &'static str,
    pub sql: &'static str,
}

/// `migration!(backend, version, name)`: the file `migrations/<backend>/<name>.sql`.
macro_rules! migration {
    ($backend:literal, $version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("migrations/", $backend, "/", $name, ".sql")),
        }
    };
}

/// `migrations! { version => name, … }`: the lists of both backends, from one.
macro_rules! migrations {
    ($($version:literal => $name:literal),* $(,)?) => {
        /// SQLite's migrations; `PRAGMA user_version` records how many ran.
        pub const SQLITE: &[Migration] = &[$(migration!("sqlite", $version, $name)),*];
        /// PostgreSQL's migrations; the table `qunguan_schema` records how many ran.
        pub const POSTGRES: &[Migration] = &[$(migration!("postgres", $version, $name)),*];
    };
}

migrations! {
    1 => "0001_bindings",
    2 => "0002_audit",
    3 => "0003_confirmations",
    4 => "0004_schedules",
    5 => "0005_welcomes",
    6 => "0006_leases",
}

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "the database's schema is version {found}, newer than this qunguan knows ({known}); run the newer qunguan or upgrade this one"
)]
pub struct TooNew {
    pub found: i64,
    pub known: i64,
}

/// The migrations a database at version `found` still needs, or [`TooNew`].
pub fn pending(all: &'static [Migration], found: i64) -> Result<&'static [Migration], TooNew> {
    let known = all.len() as i64;
    if found > known {
        return Err(TooNew { found, known });
    }
    Ok(&all[found.max(0) as usize..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in SQLITE.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }

    #[test]
    fn a_newer_schema_is_refused_and_an_older_one_gets_the_rest() {
        assert_eq!(pending(SQLITE, 0).unwrap().len(), SQLITE.len());
        assert_eq!(pending(SQLITE, 3).unwrap()[0].version, 4);
        assert!(pending(SQLITE, SQLITE.len() as i64).unwrap().is_empty());
        let e = pending(POSTGRES, 99).unwrap_err().to_string();
        let known = format!(
            "version 99, newer than this qunguan knows ({})",
            POSTGRES.len()
        );
        assert!(e.contains(&known), "{e}");
    }
}
