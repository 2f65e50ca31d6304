//! A test's own connection to the bot's database, SQLite file or
//! PostgreSQL, behind the bot's back: to lay down what the bot will find
//! (old rows, an old schema) and to check what it wrote. The SQL is the
//! caller's, so a check written once runs against both backends.

use std::path::PathBuf;

use transition_bot::config::StorageConfig;

pub enum Direct {
    Sqlite(PathBuf),
    Postgres(tokio_postgres::Client),
}

impl Direct {
    /// The database `config` names: its SQLite file (created on first
    /// use), or a connection to its PostgreSQL database.
    pub async fn of(config: &StorageConfig) -> Direct {
        match &config.url {
            Some(url) => {
                let (client, connection) = tokio_postgres::connect(&url.0, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                Direct::Postgres(client)
            }
            None => Direct::Sqlite(config.path.clone()),
        }
    }

    /// Runs `sql`, one or more statements.
    pub async fn execute(&self, sql: &str) {
        match self {
            Direct::Sqlite(path) => rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap(),
            Direct::Postgres(client) => client.batch_execute(sql).await.unwrap(),
        }
    }

    /// The single number `sql` selects (a `COUNT(*)`).
    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            Direct::Sqlite(path) => {
                rusqlite::Connection::open(path).unwrap().query_row(sql, [], |row| row.get(0)).unwrap()
            }
            Direct::Postgres(client) => client.query_one(sql, &[]).await.unwrap().get(0),
        }
    }

    /// The schema version the database records.
    pub async fn schema_version(&self) -> i64 {
        match self {
            Direct::Sqlite(_) => self.count("PRAGMA user_version").await,
            Direct::Postgres(client) => {
                let row = client.query_one("SELECT version FROM transition_bot_schema", &[]).await.unwrap();
                i64::from(row.get::<_, i32>(0))
            }
        }
    }
}
