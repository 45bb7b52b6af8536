//! Secrets from the CLI's input for `server add`, `target add` and the commands that connect:
//! `--password-stdin` reads one line from stdin, else `IMAGESMITH_PASSWORD`; never an argument.

use imagesmith_engine::secrets::Secret;
use imagesmith_engine::Error;
use std::io::BufRead;

/// The environment variable the CLI takes a password from when stdin is not used.
pub const PASSWORD_ENV: &str = "IMAGESMITH_PASSWORD";

/// The password given to this command: one line of stdin (`from_stdin`), else IMAGESMITH_PASSWORD,
/// else none (the keyring is asked later).
pub fn given_password(from_stdin: bool) -> Result<Option<Secret>, Error> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Error::invalid_argument(
                format!("Could not read the password from stdin: {e}."),
                "Pipe the password in: printf %s \"$PW\" | imagesmith-cli …",
            )
        })?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if pw.is_empty() {
            return Err(Error::invalid_argument(
                "--password-stdin read an empty password.",
                "Pipe the password in: printf %s \"$PW\" | imagesmith-cli …",
            ));
        }
        return Ok(Some(Secret::new(pw)));
    }
    Ok(std::env::var(PASSWORD_ENV).ok().filter(|v| !v.is_empty()).map(Secret::new))
}
