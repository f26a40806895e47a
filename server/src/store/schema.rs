//! The database's schema, as a list of migrations: SQLite's `user_version`
//! is the number of migrations applied. A new database gets all of them; an
//! older one the missing ones, in one transaction; one from a newer server
//! is refused.

use rusqlite::Connection;

/// One step of the schema, applied once, in order.
pub(crate) struct Migration {
    /// What it does, for the log.
    pub(crate) name: &'static str,
    /// The SQL it runs.
    pub(crate) sql: &'static str,
}

/// Every migration, oldest first: the schema is version `MIGRATIONS.len()`.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    name: "accounts, friend lists, pending verifications and queued messages",
    sql: "
        -- The password is a PHC string: a salted argon2id hash of the MD5 the
        -- protocol sends, with its parameters (never the MD5 or the password).
        CREATE TABLE account (
            uin        INTEGER PRIMARY KEY,
            password   TEXT    NOT NULL,
            nickname   TEXT    NOT NULL DEFAULT '',
            face       INTEGER NOT NULL DEFAULT 0,
            add_policy TEXT    NOT NULL DEFAULT 'allow'
                       CHECK (add_policy IN ('allow', 'verify', 'refuse')),
            -- Every other GetInfo field, as TOML (read and written whole).
            profile    TEXT    NOT NULL DEFAULT ''
        );
        -- Friend lists are one-way and ordered.
        CREATE TABLE friend (
            uin      INTEGER NOT NULL,
            friend   INTEGER NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (uin, friend)
        ) WITHOUT ROWID;
        CREATE INDEX friend_by_position ON friend (uin, position);
        -- Who lists a user: the friends to tell about their status.
        CREATE INDEX friend_of ON friend (friend);
        -- Ack_AddToList CD=2 requests awaiting an answer.
        CREATE TABLE pending (
            recipient INTEGER NOT NULL,
            sender    INTEGER NOT NULL,
            PRIMARY KEY (recipient, sender)
        ) WITHOUT ROWID;
        -- Undelivered messages in arrival order; in_flight marks the batch
        -- the recipient's last GetMsgEx returned, kept until their next
        -- GetMsgEx or Logout confirms it (DECISIONS.md 58).
        CREATE TABLE message (
            id        INTEGER PRIMARY KEY,
            recipient INTEGER NOT NULL,
            kind      INTEGER NOT NULL,
            sender    INTEGER NOT NULL,
            text      TEXT    NOT NULL,
            in_flight INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX message_queue ON message (recipient, in_flight, id);
    ",
}];

/// Brings the schema to the last migration of `migrations`: all of them on
/// a new database, the missing ones on an older one. Returns the version
/// the database had.
///
/// # Errors
/// A database from a newer server (a version past the last migration), or
/// SQLite's own error.
pub(crate) fn migrate(
    connection: &mut Connection,
    migrations: &[Migration],
) -> Result<usize, String> {
    let sql = |e: rusqlite::Error| e.to_string();
    let found: usize = connection
        .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .map_err(sql)?
        .try_into()
        .map_err(|_| "a negative schema version".to_owned())?;
    if found > migrations.len() {
        return Err(format!(
            "its schema is version {found}, newer than this server's {}: use a newer httpqq-server",
            migrations.len()
        ));
    }
    if found == migrations.len() {
        return Ok(found);
    }
    let tx = connection.transaction().map_err(sql)?;
    for (n, migration) in migrations.iter().enumerate().skip(found) {
        log::info!(target: "httpqq::server", "database schema {}: {}", n + 1, migration.name);
        tx.execute_batch(migration.sql).map_err(sql)?;
    }
    tx.pragma_update(None, "user_version", migrations.len() as i64)
        .map_err(sql)?;
    tx.commit().map_err(sql)?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_database_gets_every_migration() {
        let mut db = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut db, MIGRATIONS).unwrap(), 0);
        let version: i64 = db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        db.execute("INSERT INTO account (uin, password) VALUES (1, 'x')", [])
            .unwrap();
        // Again: nothing to do.
        assert_eq!(migrate(&mut db, MIGRATIONS).unwrap(), MIGRATIONS.len());
    }

    #[test]
    fn an_older_database_gets_the_missing_migrations_and_keeps_its_data() {
        let next = [
            Migration {
                name: "one",
                sql: "CREATE TABLE t (a INTEGER);",
            },
            Migration {
                name: "two",
                sql: "ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7;",
            },
        ];
        let mut db = Connection::open_in_memory().unwrap();
        migrate(&mut db, &next[..1]).unwrap();
        db.execute("INSERT INTO t (a) VALUES (1)", []).unwrap();
        assert_eq!(migrate(&mut db, &next).unwrap(), 1);
        let row: (i64, i64) = db
            .query_row("SELECT a, b FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(row, (1, 7));
    }

    #[test]
    fn a_newer_database_is_refused_and_a_failed_migration_changes_nothing() {
        let mut db = Connection::open_in_memory().unwrap();
        db.pragma_update(None, "user_version", 99).unwrap();
        assert!(migrate(&mut db, MIGRATIONS).unwrap_err().contains("newer"));
        let broken = [
            Migration {
                name: "ok",
                sql: "CREATE TABLE t (a INTEGER);",
            },
            Migration {
                name: "bad",
                sql: "CREATE TABLE t (a INTEGER);",
            },
        ];
        let mut db = Connection::open_in_memory().unwrap();
        assert!(migrate(&mut db, &broken).is_err());
        let tables: i64 = db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 't'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "all or nothing");
    }
}
