//! One face for the catalog over its two engines: SQLite for a repository on this desktop, PostgreSQL
//! for a team's (docs/design/team-repository.md §1.1).
//!
//! It is shaped like the parts of rusqlite the engine uses (`execute`, `query_row`, `prepare(_cached)`,
//! `query_map`, `exists`, `Row::get`, `params!`, `optional()`), so a query is written once, in
//! SQLite's words, and [`crate::team::dialect::to_pg`] says it in PostgreSQL's. Rows are read into
//! owned [`Value`]s (SQLite's five storage classes), which both engines produce and every reader
//! takes, so a column reads the same on either.

use super::pg::PgConn;
use crate::error::Error;

/// One cell: SQLite's storage classes, which PostgreSQL's columns are read into.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Integer(_) => "an integer",
            Value::Real(_) => "a real number",
            Value::Text(_) => "text",
            Value::Blob(_) => "a blob",
        }
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Integer(i)
    }
}

/// A failure of the catalog's engine, or of reading a cell as the type asked for.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", super::pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    #[error("the query returned no rows")]
    NoRows,
    /// A value that did not read back as its domain word; carries the coded error to show.
    #[error("column {idx}: {cause}")]
    Conversion { idx: usize, cause: Box<Error> },
    #[error("column {column} holds {found}, read as {wanted}")]
    InvalidType { column: String, found: &'static str, wanted: &'static str },
    #[error("the statement has no column {0}")]
    NoSuchColumn(String),
    /// A statement in a team catalog's write transaction failed (and was passed over): the whole
    /// transaction was rolled back instead of committed.
    #[error("the transaction was rolled back: one of its statements had failed")]
    RolledBack,
    /// The connection was lost and a new one could not be made: carries why, coded.
    #[error("{}", .0.text)]
    Reconnect(Error),
}

impl SqlError {
    /// A cell that did not parse as what it stands for: `cause` says what to do.
    pub(crate) fn conversion(idx: usize, cause: Error) -> SqlError {
        SqlError::Conversion { idx, cause: Box::new(cause) }
    }

    /// SQLite's primary result code, when SQLite failed.
    pub fn sqlite_error_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            SqlError::Sqlite(e) => e.sqlite_error_code(),
            _ => None,
        }
    }
}

/// A result of the catalog (inside row-mapping closures too).
pub type SqlResult<T> = std::result::Result<T, SqlError>;

/// `.optional()` on a single-row read: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> SqlResult<Option<T>>;
}

impl<T> OptionalExtension<T> for SqlResult<T> {
    fn optional(self) -> SqlResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows | SqlError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A Rust value that can be a statement's parameter.
pub trait ToCell {
    fn to_cell(&self) -> Value;
}

impl ToCell for Value {
    fn to_cell(&self) -> Value {
        self.clone()
    }
}

macro_rules! integer_cell {
    ($($t:ty),*) => {$(
        impl ToCell for $t {
            fn to_cell(&self) -> Value {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
integer_cell!(i64, i32, i16, u32, u16, u8, bool);

macro_rules! wide_integer_cell {
    ($($t:ty),*) => {$(
        impl ToCell for $t {
            // Sizes and counts: none comes near i64::MAX; one that did would be stored as the largest.
            fn to_cell(&self) -> Value {
                Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
wide_integer_cell!(u64, usize);

impl ToCell for f64 {
    fn to_cell(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToCell for str {
    fn to_cell(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToCell for String {
    fn to_cell(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToCell for [u8] {
    fn to_cell(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToCell for Vec<u8> {
    fn to_cell(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl<T: ToCell> ToCell for Option<T> {
    fn to_cell(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToCell::to_cell)
    }
}

impl<T: ToCell + ?Sized> ToCell for &T {
    fn to_cell(&self) -> Value {
        (**self).to_cell()
    }
}

impl<T: ToCell + ?Sized> ToCell for Box<T> {
    fn to_cell(&self) -> Value {
        (**self).to_cell()
    }
}

impl ToCell for std::borrow::Cow<'_, str> {
    fn to_cell(&self) -> Value {
        Value::Text(self.to_string())
    }
}

/// A statement's parameters, in order.
pub trait Params {
    fn cells(self) -> Vec<Value>;
}

impl Params for &[&dyn ToCell] {
    fn cells(self) -> Vec<Value> {
        self.iter().map(|p| p.to_cell()).collect()
    }
}

impl Params for [&dyn ToCell; 0] {
    fn cells(self) -> Vec<Value> {
        Vec::new()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToCell> Params for [T; $n] {
            fn cells(self) -> Vec<Value> {
                self.iter().map(ToCell::to_cell).collect()
            }
        }
        impl<T: ToCell + ?Sized> Params for &[&T; $n] {
            fn cells(self) -> Vec<Value> {
                self.iter().map(|p| p.to_cell()).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Parameters from an iterator (a filter built clause by clause).
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToCell,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToCell,
{
    fn cells(self) -> Vec<Value> {
        self.0.into_iter().map(|p| p.to_cell()).collect()
    }
}

/// `params![a, b, …]`: a statement's parameters of any [`ToCell`] types.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToCell]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::db::ToCell),+] as &[&dyn $crate::db::ToCell]
    };
}
pub(crate) use params;

/// A Rust value a cell can be read as.
pub trait FromCell: Sized {
    /// `Err` names the type asked for.
    fn from_cell(v: &Value) -> Result<Self, &'static str>;
}

impl FromCell for Value {
    fn from_cell(v: &Value) -> Result<Self, &'static str> {
        Ok(v.clone())
    }
}

impl FromCell for i64 {
    fn from_cell(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Integer(i) => Ok(*i),
            _ => Err("an integer"),
        }
    }
}

macro_rules! narrow_integer {
    ($($t:ty),*) => {$(
        impl FromCell for $t {
            fn from_cell(v: &Value) -> Result<Self, &'static str> {
                match v {
                    Value::Integer(i) => <$t>::try_from(*i).map_err(|_| concat!("a ", stringify!($t))),
                    _ => Err(concat!("a ", stringify!($t))),
                }
            }
        }
    )*};
}
narrow_integer!(i32, u32, u16, u8, u64, usize);

impl FromCell for bool {
    fn from_cell(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Integer(i) => Ok(*i != 0),
            _ => Err("a boolean"),
        }
    }
}

impl FromCell for f64 {
    fn from_cell(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Real(f) => Ok(*f),
            Value::Integer(i) => Ok(*i as f64),
            _ => Err("a number"),
        }
    }
}

impl FromCell for String {
    fn from_cell(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            _ => Err("text"),
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            _ => Err("a blob"),
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(v: &Value) -> Result<Self, &'static str> {
        match v {
            Value::Null => Ok(None),
            v => T::from_cell(v).map(Some),
        }
    }
}

/// Where a cell is in a row: its position, or its column's name.
pub trait CellIndex {
    fn index(&self, columns: &[String]) -> SqlResult<usize>;
}

impl CellIndex for usize {
    fn index(&self, columns: &[String]) -> SqlResult<usize> {
        if *self < columns.len() {
            Ok(*self)
        } else {
            Err(SqlError::NoSuchColumn(self.to_string()))
        }
    }
}

impl CellIndex for &str {
    fn index(&self, columns: &[String]) -> SqlResult<usize> {
        columns.iter().position(|c| c.eq_ignore_ascii_case(self)).ok_or_else(|| SqlError::NoSuchColumn(self.to_string()))
    }
}

/// One row of a result, its cells read already.
pub struct Row<'a> {
    cells: &'a [Value],
    columns: &'a [String],
}

impl Row<'_> {
    pub fn get<I: CellIndex, T: FromCell>(&self, idx: I) -> SqlResult<T> {
        let i = idx.index(self.columns)?;
        let cell = &self.cells[i];
        T::from_cell(cell).map_err(|wanted| SqlError::InvalidType { column: self.columns[i].clone(), found: cell.kind(), wanted })
    }

    pub fn get_ref<I: CellIndex>(&self, idx: I) -> SqlResult<&Value> {
        Ok(&self.cells[idx.index(self.columns)?])
    }

    pub fn column_name(&self, idx: usize) -> Option<&str> {
        self.columns.get(idx).map(String::as_str)
    }
}

/// A catalog connection: SQLite's or PostgreSQL's.
pub struct Connection {
    inner: Inner,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Pg(Box<PgConn>),
}

/// Which engine a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Connection {
    pub(crate) fn from_sqlite(conn: rusqlite::Connection) -> Connection {
        Connection { inner: Inner::Sqlite(conn) }
    }

    /// A team catalog's connection; `reconnect` makes a new one when it is lost.
    pub(crate) fn from_postgres(client: postgres::Client, reconnect: super::pg::Reconnect) -> Connection {
        Connection { inner: Inner::Pg(Box::new(PgConn::new(client, reconnect))) }
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Pg(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection (opening, pragmas, migrations, backups), when this is one.
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Pg(_) => None,
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> SqlResult<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> SqlResult<T>>(&self, sql: &str, params: P, f: F) -> SqlResult<T> {
        self.prepare(sql)?.query_row(params, f)
    }

    /// Statements with no parameters and no results, one after the other.
    pub fn execute_batch(&self, sql: &str) -> SqlResult<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Pg(pg) => pg.batch(sql),
        }
    }

    pub fn prepare(&self, sql: &str) -> SqlResult<Statement<'_>> {
        self.statement(sql, false)
    }

    /// [`Connection::prepare`], kept for the next call with the same text (PostgreSQL's are all kept).
    pub fn prepare_cached(&self, sql: &str) -> SqlResult<Statement<'_>> {
        self.statement(sql, true)
    }

    fn statement(&self, sql: &str, cached: bool) -> SqlResult<Statement<'_>> {
        Ok(Statement {
            inner: match &self.inner {
                Inner::Sqlite(c) if cached => Stmt::SqliteCached(c.prepare_cached(sql)?),
                Inner::Sqlite(c) => Stmt::Sqlite(c.prepare(sql)?),
                Inner::Pg(pg) => {
                    pg.check(sql)?;
                    Stmt::Pg(pg, sql.to_string())
                }
            },
        })
    }

    /// Run `f` in a transaction that holds the repository's one write lock from its start: SQLite's
    /// `BEGIN IMMEDIATE`, or on PostgreSQL a transaction-scoped advisory lock every desktop takes, so
    /// writes are serialised on a team catalog as on a local one. Rolled back when `f` fails or panics.
    pub(crate) fn write<T, E: From<SqlError>>(&mut self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
        let conn: &Connection = self;
        match &conn.inner {
            Inner::Sqlite(c) => {
                let tx = rusqlite::Transaction::new_unchecked(c, rusqlite::TransactionBehavior::Immediate).map_err(SqlError::from)?;
                let out = f(conn)?;
                tx.commit().map_err(SqlError::from)?;
                Ok(out)
            }
            Inner::Pg(pg) => {
                let tx = pg.begin_write()?;
                let out = f(conn)?;
                tx.commit()?;
                Ok(out)
            }
        }
    }
}

/// A prepared statement.
pub struct Statement<'c> {
    inner: Stmt<'c>,
}

enum Stmt<'c> {
    Sqlite(rusqlite::Statement<'c>),
    SqliteCached(rusqlite::CachedStatement<'c>),
    Pg(&'c PgConn, String),
}

impl Statement<'_> {
    /// Every row, each through `f`; stops at the first error, which is the last item.
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> SqlResult<T>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> SqlResult<std::vec::IntoIter<SqlResult<T>>> {
        let mut out = Vec::new();
        self.each(params, |row| {
            let item = f(row);
            let go_on = item.is_ok();
            out.push(item);
            Ok(go_on)
        })?;
        Ok(out.into_iter())
    }

    /// The first row through `f`; none is [`SqlError::NoRows`].
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> SqlResult<T>>(&mut self, params: P, f: F) -> SqlResult<T> {
        let mut f = Some(f);
        let mut out = None;
        self.each(params, |row| {
            out = Some(f.take().expect("called once")(row));
            Ok(false)
        })?;
        out.unwrap_or(Err(SqlError::NoRows))
    }

    /// Whether the query returns a row.
    pub fn exists<P: Params>(&mut self, params: P) -> SqlResult<bool> {
        let mut found = false;
        self.each(params, |_| {
            found = true;
            Ok(false)
        })?;
        Ok(found)
    }

    /// Run a statement that returns no rows; how many rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> SqlResult<usize> {
        let cells = params.cells();
        match &mut self.inner {
            Stmt::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(cells.iter()))?),
            Stmt::SqliteCached(s) => Ok(s.execute(rusqlite::params_from_iter(cells.iter()))?),
            Stmt::Pg(pg, sql) => pg.execute(sql, &cells),
        }
    }

    /// Feed rows to `each` while it answers `Ok(true)`.
    fn each<P: Params>(&mut self, params: P, mut each: impl FnMut(&Row<'_>) -> SqlResult<bool>) -> SqlResult<()> {
        let cells = params.cells();
        let stmt: &mut rusqlite::Statement<'_> = match &mut self.inner {
            Stmt::Sqlite(s) => s,
            Stmt::SqliteCached(s) => s,
            Stmt::Pg(pg, sql) => {
                let (p, rows) = pg.query(sql, &cells)?;
                for row in &rows {
                    if !each(&Row { cells: row, columns: &p.columns })? {
                        break;
                    }
                }
                return Ok(());
            }
        };
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(cells.iter()))?;
        let mut row = Vec::with_capacity(columns.len());
        while let Some(r) = rows.next()? {
            row.clear();
            for i in 0..columns.len() {
                row.push(from_sqlite(r.get_ref(i)?));
            }
            if !each(&Row { cells: &row, columns: &columns })? {
                break;
            }
        }
        Ok(())
    }
}

fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as R;
    match v {
        R::Null => Value::Null,
        R::Integer(i) => Value::Integer(i),
        R::Real(f) => Value::Real(f),
        R::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        R::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as R};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => R::Null,
            Value::Integer(i) => R::Integer(*i),
            Value::Real(f) => R::Real(*f),
            Value::Text(s) => R::Text(s.as_bytes()),
            Value::Blob(b) => R::Blob(b),
        }))
    }
}
