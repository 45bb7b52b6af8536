//! The PostgreSQL side of the catalog facade: statements translated from SQLite's words and kept per
//! connection, parameters sent as the type PostgreSQL inferred for them, and columns read into
//! SQLite's storage classes (integers, reals, text, blobs) so a row reads the same on either engine.

use super::conn::{SqlError, SqlResult, Value};
use crate::team::dialect;
use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use std::cell::{Cell as Flag, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

/// `pg_advisory_xact_lock` key every write transaction takes ("imsmwrit"): one writer at a time
/// across every desktop, the rule the engine's invariants rest on (as SQLite's BEGIN IMMEDIATE).
pub(crate) const WRITE_LOCK: i64 = 0x696d_736d_7772_6974;

/// How long a write waits for the team's write lock (SQLite's busy timeout is 30 s too).
const LOCK_WAIT: &str = "30s";

/// A statement prepared on this connection, with its columns' names.
pub(crate) struct Prepared {
    stmt: postgres::Statement,
    pub(crate) columns: Vec<String>,
}

/// How a statement's parameters are typed: as PostgreSQL infers them from the statement, or — when
/// it cannot (`?1 IS NULL OR col = ?1`) — from the values sent.
enum Typing {
    Inferred(Arc<Prepared>),
    ByValue,
}

/// A statement's text and the type OIDs its parameters were prepared with.
type TypedKey = (String, Vec<u32>);

/// Makes a new connection to the same catalog (a lost one is replaced by it).
pub(crate) type Reconnect = Box<dyn Fn() -> crate::error::Result<postgres::Client> + Send>;

pub(crate) struct PgConn {
    client: RefCell<postgres::Client>,
    reconnect: Reconnect,
    prepared: RefCell<HashMap<String, Typing>>,
    /// Prepared with their parameters typed by value, by statement and the types sent.
    by_value: RefCell<HashMap<TypedKey, Arc<Prepared>>>,
    /// A write transaction is open: a failed prepare would abort it, so it is tried in a savepoint.
    in_write: Flag<bool>,
    /// A statement of the open write transaction failed: PostgreSQL has aborted it, and would
    /// answer its COMMIT with a silent ROLLBACK.
    failed: Flag<bool>,
}

impl PgConn {
    pub(crate) fn new(client: postgres::Client, reconnect: Reconnect) -> PgConn {
        PgConn {
            client: RefCell::new(client),
            reconnect,
            prepared: RefCell::new(HashMap::new()),
            by_value: RefCell::new(HashMap::new()),
            in_write: Flag::new(false),
            failed: Flag::new(false),
        }
    }

    /// `sql` (SQLite's words) prepared as PostgreSQL's for `cells`, once per connection.
    fn statement(&self, sql: &str, cells: &[Value]) -> SqlResult<Arc<Prepared>> {
        if let Some(Typing::Inferred(p)) = self.prepared.borrow().get(sql) {
            return Ok(p.clone());
        }
        let pg_sql = dialect::to_pg(sql);
        debug_assert!(
            dialect::leftover(&pg_sql).is_none(),
            "SQLite-only syntax left after translation ({:?}): {pg_sql}",
            dialect::leftover(&pg_sql)
        );
        if !self.prepared.borrow().contains_key(sql) {
            match self.try_prepare(&pg_sql, &[]) {
                Ok(p) => {
                    self.prepared.borrow_mut().insert(sql.to_string(), Typing::Inferred(p.clone()));
                    return Ok(p);
                }
                Err(SqlError::Postgres(e)) if untyped(&e) => {
                    self.prepared.borrow_mut().insert(sql.to_string(), Typing::ByValue);
                }
                Err(e) => return Err(e),
            }
        }
        let types: Vec<Type> = cells.iter().map(value_type).collect();
        let key = (sql.to_string(), types.iter().map(Type::oid).collect());
        if let Some(p) = self.by_value.borrow().get(&key) {
            return Ok(p.clone());
        }
        let p = self.try_prepare(&pg_sql, &types)?;
        self.by_value.borrow_mut().insert(key, p.clone());
        Ok(p)
    }

    /// Prepare, inside a savepoint when a write transaction is open (so a refusal does not abort it).
    fn try_prepare(&self, pg_sql: &str, types: &[Type]) -> SqlResult<Arc<Prepared>> {
        let mut client = self.client.borrow_mut();
        let guarded = self.in_write.get();
        if guarded {
            client.batch_execute("SAVEPOINT imagesmith_prepare")?;
        }
        let stmt = client.prepare_typed(pg_sql, types);
        if guarded {
            client.batch_execute(if stmt.is_ok() {
                "RELEASE SAVEPOINT imagesmith_prepare"
            } else {
                "ROLLBACK TO SAVEPOINT imagesmith_prepare"
            })?;
        }
        let stmt = stmt?;
        let columns = stmt.columns().iter().map(|c| c.name().to_string()).collect();
        Ok(Arc::new(Prepared { stmt, columns }))
    }

    /// Check `sql` now (it is prepared when first run, when its parameters' values are known).
    pub(crate) fn check(&self, sql: &str) -> SqlResult<()> {
        if self.prepared.borrow().contains_key(sql) {
            return Ok(());
        }
        self.again_if_lost(|| match self.statement(sql, &[]) {
            Err(SqlError::Postgres(e)) if untyped(&e) => Ok(()),
            other => other.map(|_| ()),
        })
    }

    pub(crate) fn execute(&self, sql: &str, cells: &[Value]) -> SqlResult<usize> {
        self.again_if_lost(|| {
            let p = self.statement(sql, cells)?;
            let args: Vec<&(dyn ToSql + Sync)> = cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
            let n = self.client.borrow_mut().execute(&p.stmt, &args).inspect_err(|_| self.note_failure())?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    /// Run `f`; when it failed because the connection was lost (a restarted server, a network cut,
    /// an ended session) and no write transaction is open, connect again and run it once more. In
    /// a write transaction the loss is the write's error: it was rolled back, and the caller decides.
    fn again_if_lost<T>(&self, f: impl Fn() -> SqlResult<T>) -> SqlResult<T> {
        match f() {
            Err(e) if !self.in_write.get() && self.lost(&e) => {
                tracing::warn!(error = %e, "team catalog connection lost; connecting again");
                self.connect_again()?;
                f()
            }
            other => other,
        }
    }

    /// Whether `e` says the connection is gone: closed, or ended by the server (its FATAL answer
    /// can arrive before the client has noticed the socket closing).
    fn lost(&self, e: &SqlError) -> bool {
        let ended = |pe: &postgres::Error| {
            pe.is_closed()
                || pe.code().is_some_and(|c| [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW].contains(c))
        };
        matches!(e, SqlError::Postgres(pe) if ended(pe)) || self.client.borrow().is_closed()
    }

    /// Replace a lost connection; the statements prepared on it went with it.
    fn connect_again(&self) -> SqlResult<()> {
        let client = (self.reconnect)().map_err(SqlError::Reconnect)?;
        *self.client.borrow_mut() = client;
        self.prepared.borrow_mut().clear();
        self.by_value.borrow_mut().clear();
        tracing::info!("team catalog connected again");
        Ok(())
    }

    /// The rows of `sql` for `cells`, with the statement's column names.
    pub(crate) fn query(&self, sql: &str, cells: &[Value]) -> SqlResult<(Arc<Prepared>, Vec<Vec<Value>>)> {
        self.again_if_lost(|| self.query_once(sql, cells))
    }

    fn query_once(&self, sql: &str, cells: &[Value]) -> SqlResult<(Arc<Prepared>, Vec<Vec<Value>>)> {
        let p = self.statement(sql, cells)?;
        let args: Vec<&(dyn ToSql + Sync)> = cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        let rows = self.client.borrow_mut().query(&p.stmt, &args).inspect_err(|_| self.note_failure())?;
        let rows = rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        let cell: Cell<'_> = row.try_get(i)?;
                        decode(row.columns()[i].type_(), cell.0).map_err(|found| SqlError::InvalidType {
                            column: row.columns()[i].name().to_string(),
                            found,
                            wanted: "a value of a type the catalog uses",
                        })
                    })
                    .collect()
            })
            .collect::<SqlResult<_>>()?;
        Ok((p, rows))
    }

    pub(crate) fn batch(&self, sql: &str) -> SqlResult<()> {
        Ok(self.client.borrow_mut().batch_execute(sql).inspect_err(|_| self.note_failure())?)
    }

    fn note_failure(&self) {
        if self.in_write.get() {
            self.failed.set(true);
        }
    }

    /// BEGIN, then the team's write lock — waited for at most [`LOCK_WAIT`], then `catalog_busy`, as
    /// SQLite's busy timeout does; the guard rolls back unless committed.
    pub(crate) fn begin_write(&self) -> SqlResult<WriteTx<'_>> {
        let begin = format!("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '{LOCK_WAIT}'");
        self.again_if_lost(|| self.batch(&begin))?;
        self.in_write.set(true);
        self.failed.set(false);
        let tx = WriteTx { pg: self, done: false };
        self.client.borrow_mut().execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        Ok(tx)
    }
}

/// PostgreSQL could not tell a parameter's type from the statement (42P08, 42P18).
fn untyped(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| *c == SqlState::AMBIGUOUS_PARAMETER || *c == SqlState::INDETERMINATE_DATATYPE)
}

/// The type a value is sent as when the statement does not say (NULL: left to PostgreSQL).
fn value_type(v: &Value) -> Type {
    match v {
        Value::Integer(_) => Type::INT8,
        Value::Real(_) => Type::FLOAT8,
        Value::Text(_) => Type::TEXT,
        Value::Blob(_) => Type::BYTEA,
        Value::Null => Type::new(String::new(), 0, postgres::types::Kind::Pseudo, String::new()),
    }
}

pub(crate) struct WriteTx<'a> {
    pg: &'a PgConn,
    done: bool,
}

impl WriteTx<'_> {
    /// COMMIT; a transaction one of whose statements failed is rolled back and that is an error
    /// (PostgreSQL would roll it back silently, and the caller believe it written).
    pub(crate) fn commit(mut self) -> SqlResult<()> {
        self.done = true;
        self.pg.in_write.set(false);
        if self.pg.failed.replace(false) {
            let _ = self.pg.batch("ROLLBACK");
            return Err(SqlError::RolledBack);
        }
        self.pg.batch("COMMIT")
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pg.in_write.set(false);
            // A connection that is gone has rolled back already; nothing more to do.
            if let Ok(mut client) = self.pg.client.try_borrow_mut() {
                let _ = client.batch_execute("ROLLBACK");
            }
        }
    }
}

/// A column's raw bytes in PostgreSQL's binary format (`None` for NULL), whatever its type.
struct Cell<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Cell<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Cell(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Cell(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A column read as SQLite would have stored it; `Err` names a type the catalog never uses.
fn decode(ty: &Type, raw: Option<&[u8]>) -> Result<Value, &'static str> {
    let Some(raw) = raw else { return Ok(Value::Null) };
    let bad = "a malformed value";
    let int = |raw: &[u8]| -> Result<i64, &'static str> {
        Ok(match raw.len() {
            8 => i64::from_be_bytes(raw.try_into().map_err(|_| bad)?),
            4 => i64::from(i32::from_be_bytes(raw.try_into().map_err(|_| bad)?)),
            2 => i64::from(i16::from_be_bytes(raw.try_into().map_err(|_| bad)?)),
            _ => return Err(bad),
        })
    };
    Ok(match *ty {
        Type::INT8 | Type::INT4 | Type::INT2 | Type::OID => {
            Value::Integer(if *ty == Type::OID { i64::from(u32::from_be_bytes(raw.try_into().map_err(|_| bad)?)) } else { int(raw)? })
        }
        Type::BOOL => Value::Integer(i64::from(raw.first().copied().ok_or(bad)? != 0)),
        Type::FLOAT8 => Value::Real(f64::from_be_bytes(raw.try_into().map_err(|_| bad)?)),
        Type::FLOAT4 => Value::Real(f64::from(f32::from_be_bytes(raw.try_into().map_err(|_| bad)?))),
        Type::NUMERIC => numeric(raw).ok_or(bad)?,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
            Value::Text(std::str::from_utf8(raw).map_err(|_| bad)?.to_string())
        }
        // jsonb's binary form is a version byte (1) and the text.
        Type::JSONB => Value::Text(std::str::from_utf8(raw.get(1..).ok_or(bad)?).map_err(|_| bad)?.to_string()),
        Type::BYTEA => Value::Blob(raw.to_vec()),
        Type::UUID => Value::Text(uuid_text(raw).ok_or(bad)?),
        _ => return Err("a type the catalog does not use"),
    })
}

/// NUMERIC (what `SUM` of a BIGINT column gives): an integer when it is one, else a real.
fn numeric(raw: &[u8]) -> Option<Value> {
    let word = |i: usize| raw.get(i * 2..i * 2 + 2).map(|b| i16::from_be_bytes([b[0], b[1]]));
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Some(Value::Real(f64::NAN));
    }
    let digits: Vec<i16> = (0..ndigits as usize).map(|i| word(4 + i)).collect::<Option<_>>()?;
    let negative = sign == 0x4000;
    let whole = dscale == 0 && digits.iter().enumerate().all(|(i, _)| weight as i64 - i as i64 >= 0);
    if whole {
        let mut v: i128 = 0;
        for (i, d) in digits.iter().enumerate() {
            v = v.checked_add(i128::from(*d).checked_mul(10_000i128.checked_pow((weight as i64 - i as i64) as u32)?)?)?;
        }
        let v = if negative { -v } else { v };
        if let Ok(v) = i64::try_from(v) {
            return Some(Value::Integer(v));
        }
    }
    let mut v = 0f64;
    for (i, d) in digits.iter().enumerate() {
        v += f64::from(*d) * 10_000f64.powi(i32::from(weight) - i as i32);
    }
    Some(Value::Real(if negative { -v } else { v }))
}

fn uuid_text(raw: &[u8]) -> Option<String> {
    let b: [u8; 16] = raw.try_into().ok()?;
    let h = hex::encode(b);
    Some(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

/// A parameter is sent as the type PostgreSQL inferred for it from the statement, as SQLite would
/// have taken any value into any column: an integer into a BOOLEAN is `<> 0`, text into a JSONB
/// column is that JSON.
impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let refuse =
            || -> Box<dyn std::error::Error + Sync + Send> { format!("cannot send {} as PostgreSQL type {ty}", self.kind()).into() };
        match (self, ty) {
            (Value::Null, _) => return Ok(IsNull::Yes),
            (Value::Integer(i), &Type::INT8) => out.extend_from_slice(&i.to_be_bytes()),
            (Value::Integer(i), &Type::INT4) => out.extend_from_slice(&i32::try_from(*i).map_err(|_| refuse())?.to_be_bytes()),
            (Value::Integer(i), &Type::INT2) => out.extend_from_slice(&i16::try_from(*i).map_err(|_| refuse())?.to_be_bytes()),
            (Value::Integer(i), &Type::BOOL) => out.extend_from_slice(&[u8::from(*i != 0)]),
            (Value::Integer(i), &Type::FLOAT8) => out.extend_from_slice(&(*i as f64).to_be_bytes()),
            (Value::Integer(i), &Type::TEXT | &Type::VARCHAR | &Type::UNKNOWN) => out.extend_from_slice(i.to_string().as_bytes()),
            (Value::Real(f), &Type::FLOAT8) => out.extend_from_slice(&f.to_be_bytes()),
            (Value::Real(f), &Type::FLOAT4) => out.extend_from_slice(&(*f as f32).to_be_bytes()),
            (Value::Real(f), &Type::TEXT | &Type::VARCHAR | &Type::UNKNOWN) => out.extend_from_slice(f.to_string().as_bytes()),
            (Value::Text(s), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME | &Type::UNKNOWN | &Type::JSON) => {
                out.extend_from_slice(s.as_bytes())
            }
            (Value::Text(s), &Type::JSONB) => {
                out.extend_from_slice(&[1]);
                out.extend_from_slice(s.as_bytes());
            }
            (Value::Text(s), &Type::INT8) => out.extend_from_slice(&s.trim().parse::<i64>().map_err(|_| refuse())?.to_be_bytes()),
            (Value::Blob(b), &Type::BYTEA) => out.extend_from_slice(b),
            _ => return Err(refuse()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A PostgreSQL error as one line: the server's message (never the statement or its parameters).
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
        None => format!("PostgreSQL: {e}"),
    }
}
