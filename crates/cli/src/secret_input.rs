//! Secrets from the CLI's input for `server add`, `target add` and the commands that connect:
//! `--password-stdin` reads one line from stdin, else `IMAGESMITH_PASSWORD`; never an argument. On
//! a terminal, a team repository's secrets that were neither given nor kept are asked for (echo off).

use imagesmith_engine::secrets::Secret;
use imagesmith_engine::Error;
use std::io::BufRead;

/// The environment variable the CLI takes a password from when stdin is not used.
pub const PASSWORD_ENV: &str = "IMAGESMITH_PASSWORD";

/// The password given to this command: one line of stdin (`from_stdin`), else IMAGESMITH_PASSWORD,
/// else none (the keyring is asked later).
pub fn given_password(from_stdin: bool) -> Result<Option<Secret>, Error> {
    if from_stdin {
        return stdin_line("the password").map(Some);
    }
    Ok(env_secret(PASSWORD_ENV))
}

/// The two secrets of a team repository given to this command: with `from_stdin`, the catalog's
/// password on the first line and the object store's secret key on the second; else
/// IMAGESMITH_PASSWORD and AWS_SECRET_ACCESS_KEY; each else none (the keyring is asked later).
pub fn given_team_secrets(from_stdin: bool) -> Result<(Option<Secret>, Option<Secret>), Error> {
    if from_stdin {
        let catalog = stdin_line("the catalog's password (first line)")?;
        let objects = stdin_line("the object store's secret key (second line)")?;
        return Ok((Some(catalog), Some(objects)));
    }
    Ok((env_secret(PASSWORD_ENV), env_secret("AWS_SECRET_ACCESS_KEY")))
}

/// Whether a person is at the keyboard: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask for a secret on the terminal, without echoing it (rpassword: the terminal's echo is turned
/// off and back on, also after Ctrl-C). An empty answer is none.
pub fn ask(prompt: &str) -> Result<Option<Secret>, Error> {
    let typed = rpassword::prompt_password(prompt).map_err(|e| {
        Error::invalid_argument(
            format!("Could not read the secret from the terminal: {e}."),
            "Give it with --password-stdin, or IMAGESMITH_PASSWORD and AWS_SECRET_ACCESS_KEY.",
        )
    })?;
    Ok(Some(typed).filter(|t| !t.is_empty()).map(Secret::new))
}

fn env_secret(var: &str) -> Option<Secret> {
    std::env::var(var).ok().filter(|v| !v.is_empty()).map(Secret::new)
}

/// One line of stdin, without its line end; an empty or missing line is an error naming `what`.
fn stdin_line(what: &str) -> Result<Secret, Error> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Error::invalid_argument(
            format!("Could not read {what} from stdin: {e}."),
            "Pipe the password in: printf %s \"$PW\" | imagesmith-cli …",
        )
    })?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        return Err(Error::invalid_argument(
            format!("--password-stdin read no {what}."),
            "Pipe the password in: printf %s \"$PW\" | imagesmith-cli … (a team repository takes two lines: the catalog's password, then the object store's secret key).",
        ));
    }
    Ok(Secret::new(pw))
}
