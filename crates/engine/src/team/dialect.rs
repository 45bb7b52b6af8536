//! The catalog's SQL, written for SQLite, as PostgreSQL reads it: one list of rewrites instead of
//! a second copy of every query (docs/design/team-repository.md §1.1). Only the shapes the engine
//! writes are handled; a statement that still holds SQLite-only syntax after translation is caught
//! by [`leftover`] (in debug builds, where the facade will call it) and by the test that prepares
//! the engine's query shapes on a real PostgreSQL (crates/cli/tests/team_connect.rs).

use std::borrow::Cow;

/// `sql` for PostgreSQL:
/// - `?N` parameters become `$N` (outside string literals and quoted names);
/// - `X = ?N COLLATE NOCASE` becomes `lower(X) = lower($N)`, which the unique indexes on
///   `lower(name)` serve, and any other `X COLLATE NOCASE` becomes `lower(X)`;
/// - `LIKE` becomes `ILIKE` (SQLite's LIKE ignores ASCII case, PostgreSQL's does not);
/// - `json_extract(C, '$.k')` becomes `(C::jsonb ->> 'k')`.
pub fn to_pg(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') && !sql.contains("NOCASE") && !sql.contains("LIKE") && !sql.contains("json_extract") {
        return Cow::Borrowed(sql);
    }
    // Split into code and literals, rewrite only the code.
    let mut out = String::with_capacity(sql.len() + 16);
    let mut code = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            out.push_str(&rewrite_code(&std::mem::take(&mut code)));
            let mut lit = String::from(c);
            while let Some(d) = chars.next() {
                lit.push(d);
                if d == c {
                    // a doubled quote is an escaped one, inside the literal
                    if chars.peek() == Some(&c) {
                        lit.push(chars.next().unwrap_or(c));
                        continue;
                    }
                    break;
                }
            }
            out.push_str(&lit);
        } else {
            code.push(c);
        }
    }
    out.push_str(&rewrite_code(&code));
    Cow::Owned(json_paths(&out))
}

/// What in a translated statement PostgreSQL would still not read (for a debug assertion).
pub fn leftover(pg_sql: &str) -> Option<&'static str> {
    let code = strip_literals(pg_sql);
    [
        ("?", "a ? parameter"),
        ("NOCASE", "COLLATE NOCASE"),
        ("json_extract", "json_extract"),
        ("json_each", "json_each"),
        ("json_valid", "json_valid"),
        ("INSERT OR", "INSERT OR …"),
        ("LIMIT -1", "LIMIT -1"),
        ("==", "=="),
        ("ON CONFLICT DO UPDATE", "ON CONFLICT DO UPDATE without its conflict target"),
    ]
    .into_iter()
    .find(|(needle, _)| code.contains(needle))
    .map(|(_, what)| what)
}

fn strip_literals(sql: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// The rewrites of one stretch of code (no literals in it).
fn rewrite_code(code: &str) -> String {
    // ?N -> $N
    let mut s = String::with_capacity(code.len());
    let mut it = code.char_indices().peekable();
    while let Some((_, c)) = it.next() {
        if c == '?' && it.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            s.push('$');
        } else {
            s.push(c);
        }
    }
    // X = $N COLLATE NOCASE -> lower(X) = lower($N); X COLLATE NOCASE -> lower(X). Tokens carry
    // the spaces after them; patterns compare without, the output keeps the last one's.
    let tokens = tokenize(&s);
    let word = |j: usize| tokens.get(j).map(|t| t.trim_end()).unwrap_or("");
    let tail = |j: usize| tokens.get(j).map(|t| &t[t.trim_end().len()..]).unwrap_or("");
    let nocase_at = |j: usize| word(j).eq_ignore_ascii_case("COLLATE") && word(j + 1).eq_ignore_ascii_case("NOCASE");
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if is_operand(word(i)) && word(i + 1) == "=" && is_operand(word(i + 2)) && nocase_at(i + 3) {
            words.push(format!("lower({}) = lower({}){}", word(i), word(i + 2), tail(i + 4)));
            i += 5;
        } else if is_operand(word(i)) && nocase_at(i + 1) && !(i > 0 && matches!(word(i - 1), "<" | ">" | "!" | "=")) {
            words.push(format!("lower({}){}", word(i), tail(i + 2)));
            i += 3;
        } else if word(i).eq_ignore_ascii_case("LIKE") {
            words.push(format!("ILIKE{}", tail(i)));
            i += 1;
        } else {
            words.push(tokens[i].clone());
            i += 1;
        }
    }
    words.concat()
}

/// Words, punctuation and runs of whitespace, each its own token (concatenated back unchanged).
fn tokenize(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' || c == '.' || c == '$' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    for c in s.chars() {
        match out.last_mut() {
            Some(last) if class(c) != 2 && last.chars().last().is_some_and(|l| class(l) == class(c)) => last.push(c),
            _ => out.push(c.to_string()),
        }
    }
    // Whitespace between the words of a pattern is skipped by matching on the significant tokens:
    // fold each run of spaces into the token before it.
    let mut folded: Vec<String> = Vec::new();
    for t in out {
        if t.chars().all(char::is_whitespace) {
            if let Some(last) = folded.last_mut() {
                last.push_str(&t);
                continue;
            }
        }
        folded.push(t);
    }
    folded
}

fn is_operand(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$')
}

/// `json_extract(C, '$.k')` -> `(C::jsonb ->> 'k')` (a one-level key, as the engine writes).
fn json_paths(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find("json_extract(") {
        out.push_str(&rest[..at]);
        let args = &rest[at + "json_extract(".len()..];
        let parsed = args.find(',').and_then(|comma| {
            let column = args[..comma].trim();
            let after = args[comma + 1..].trim_start();
            let key = after.strip_prefix("'$.")?;
            let end = key.find('\'')?;
            // One level only: a path with more ('$.a.b', '$.a[0]') stays json_extract, which leftover() names.
            if key[..end].contains(['.', '[', '"']) {
                return None;
            }
            let close = key[end + 1..].trim_start().strip_prefix(')')?;
            Some((column.to_string(), key[..end].to_string(), close))
        });
        match parsed {
            Some((column, key, remaining)) => {
                out.push_str(&format!("({column}::jsonb ->> '{key}')"));
                rest = remaining;
            }
            None => {
                out.push_str("json_extract(");
                rest = args;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engines_sqlite_shapes_become_postgresql() {
        let cases = [
            ("SELECT id FROM artifacts WHERE sha256 = ?1", "SELECT id FROM artifacts WHERE sha256 = $1"),
            ("SELECT id FROM profiles WHERE name = ?1 COLLATE NOCASE", "SELECT id FROM profiles WHERE lower(name) = lower($1)"),
            (
                "SELECT id FROM artifacts WHERE name = ?1 COLLATE NOCASE OR alias = ?1 COLLATE NOCASE",
                "SELECT id FROM artifacts WHERE lower(name) = lower($1) OR lower(alias) = lower($1)",
            ),
            (
                "SELECT 1 FROM gold_series s WHERE s.name = ?12 COLLATE NOCASE",
                "SELECT 1 FROM gold_series s WHERE lower(s.name) = lower($12)",
            ),
            ("SELECT name FROM targets ORDER BY name COLLATE NOCASE", "SELECT name FROM targets ORDER BY lower(name)"),
            ("ORDER BY a.name COLLATE NOCASE DESC, a.id DESC", "ORDER BY lower(a.name) DESC, a.id DESC"),
            ("WHERE a.name LIKE ?3 ESCAPE '\\'", "WHERE a.name ILIKE $3 ESCAPE '\\'"),
            (
                "WHERE json_extract(a.detected, '$.os_id') = ?2 OR json_extract(a.detected, '$.os_id') LIKE ?3",
                "WHERE (a.detected::jsonb ->> 'os_id') = $2 OR (a.detected::jsonb ->> 'os_id') ILIKE $3",
            ),
            // Literals and quoted names are left as they are.
            (
                "SELECT '?1 COLLATE NOCASE', \"user\" FROM servers WHERE id = ?1",
                "SELECT '?1 COLLATE NOCASE', \"user\" FROM servers WHERE id = $1",
            ),
            ("SELECT 'it''s ?2' WHERE x = ?2", "SELECT 'it''s ?2' WHERE x = $2"),
            ("INSERT INTO t (a) VALUES (?1) ON CONFLICT DO NOTHING", "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING"),
        ];
        for (sqlite, pg) in cases {
            assert_eq!(to_pg(sqlite), pg, "{sqlite}");
            assert_eq!(leftover(&to_pg(sqlite)), None, "{sqlite}");
        }
        assert!(matches!(to_pg("SELECT 1"), Cow::Borrowed(_)));
        assert_eq!(leftover("INSERT OR IGNORE INTO t VALUES ($1)"), Some("INSERT OR …"));
        assert_eq!(leftover("SELECT 'a ? b' WHERE x = ?"), Some("a ? parameter"));
        // What is not translated is named, never turned into something else.
        assert_eq!(leftover(&to_pg("WHERE x <> ?1 COLLATE NOCASE")), Some("COLLATE NOCASE"));
        assert_eq!(leftover(&to_pg("SELECT json_extract(d, '$.driver.class') FROM a")), Some("json_extract"));
        assert_eq!(leftover(&to_pg("SELECT 1 FROM json_each(a.detected, '$.x') h")), Some("json_each"));
        assert_eq!(
            leftover("INSERT INTO v VALUES ($1) ON CONFLICT DO UPDATE SET x = 1"),
            Some("ON CONFLICT DO UPDATE without its conflict target")
        );
    }
}
