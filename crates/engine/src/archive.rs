//! Reading tar archives within bounds: extended headers (PAX records, GNU long names) and entry counts
//! are capped before the `tar` crate reads them into memory, so a small hostile archive costs little.
//!
//! The `tar` crate reads a PAX header or a GNU long name whole into memory while it looks for the next
//! entry, whatever size the header declares (1 GiB of zeros compresses to 1 MB). The walk here gives
//! the crate's reader a byte budget for each step to the next entry: legitimate headers use a few
//! hundred bytes, so the budget is generous, and a step that wants more fails at once. Between steps
//! (while a caller reads an entry's content) the budget is off.

use crate::error::{code, Error, Result};
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Bytes the step to the next entry may read: its header blocks, PAX records, GNU long name and
/// link name, sparse maps and the padding of the previous entry. Real archives need a few KiB.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// What a walk may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries (files, folders, links) the walk visits at most.
    pub max_entries: usize,
    /// What happens at `max_entries`: stop quietly (a listing is enough) or refuse the archive.
    pub refuse_more_entries: bool,
}

/// What the visitor of an entry wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    Continue,
    Stop,
}

/// The reader the `tar` crate reads through: counts down a budget while one is set.
pub struct Budgeted<R> {
    inner: R,
    state: Rc<BudgetState>,
}

struct BudgetState {
    /// Bytes still allowed; `None` while no budget is set.
    left: Cell<Option<u64>>,
    tripped: Cell<bool>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(left) = self.state.left.get() else { return self.inner.read(buf) };
        if left == 0 && !buf.is_empty() {
            self.state.tripped.set(true);
            return Err(io::Error::other("the archive header is larger than allowed"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.state.left.set(Some(left - n as u64));
        Ok(n)
    }
}

/// An entry as the visitor sees it.
pub type TarEntry<'a, R> = tar::Entry<'a, Budgeted<R>>;

fn unsafe_archive(name: &str, why: String) -> Error {
    Error::new(
        code::UNSAFE_ARCHIVE,
        format!("{name} was refused: {why}."),
        "Archives written by tar, GNU tar, bsdtar, Python and Imagesmith keep each header within a few kilobytes and hold a reasonable number of entries; an archive that asks for more is damaged or made to exhaust memory.",
        "Check where the archive came from; create it again with a standard tool if it is yours. Nothing from it was kept.",
    )
}

/// Walk the entries of a tar stream with bounded headers, calling `visit` for each. What the
/// visitor leaves unread of an entry is read past (with no budget) before the next step.
/// `damaged` turns an error of the tar format into the caller's coded error.
/// Returns the number of entries visited.
pub fn walk<R: Read>(
    reader: R,
    name: &str,
    limits: Limits,
    damaged: &dyn Fn(&io::Error) -> Error,
    mut visit: impl FnMut(&mut TarEntry<'_, R>) -> Result<Walk>,
) -> Result<usize> {
    let state = Rc::new(BudgetState { left: Cell::new(None), tripped: Cell::new(false) });
    let mut archive = tar::Archive::new(Budgeted { inner: reader, state: Rc::clone(&state) });
    let mut entries = archive.entries().map_err(|e| damaged(&e))?;
    let mut count = 0usize;
    loop {
        state.left.set(Some(MAX_HEADER_BYTES));
        let next = entries.next();
        state.left.set(None);
        let mut entry = match next {
            None => break,
            Some(Ok(entry)) => entry,
            Some(Err(_)) if state.tripped.get() => {
                return Err(unsafe_archive(
                    name,
                    format!(
                        "after entry {count}, a header announces more than {} KiB of extended header data (PAX records or a GNU long name)",
                        MAX_HEADER_BYTES >> 10
                    ),
                ))
            }
            Some(Err(e)) => return Err(damaged(&e)),
        };
        if count == limits.max_entries {
            if limits.refuse_more_entries {
                return Err(unsafe_archive(name, format!("it holds more than {} entries", limits.max_entries)));
            }
            break;
        }
        count += 1;
        if visit(&mut entry)? == Walk::Stop {
            break;
        }
        io::copy(&mut entry, &mut io::sink()).map_err(|e| damaged(&e))?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, kind: tar::EntryType, size: u64) -> [u8; 512] {
        let mut h = tar::Header::new_gnu();
        h.set_path(name).unwrap();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        *h.as_bytes()
    }

    fn list(bytes: &[u8], limits: Limits) -> Result<Vec<String>> {
        let mut names = Vec::new();
        walk(bytes, "t.tar", limits, &|e| Error::new(code::INVALID_CONTENT, e.to_string(), "", ""), |e| {
            names.push(e.path().unwrap().display().to_string());
            Ok(Walk::Continue)
        })?;
        Ok(names)
    }

    const MANY: Limits = Limits { max_entries: 100, refuse_more_entries: true };

    #[test]
    fn long_names_within_the_budget_are_read() {
        let long = "custom/".to_string() + &"n".repeat(3000);
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        tar.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        tar.append_data(&mut h, "short", &b"abc"[..]).unwrap();
        let bytes = tar.into_inner().unwrap();
        assert_eq!(list(&bytes, MANY).unwrap(), [long, "short".to_string()]);
    }

    #[test]
    fn a_gnu_long_name_over_the_budget_is_refused_before_it_is_read() {
        let mut bytes = header("././@LongLink", tar::EntryType::GNULongName, 1 << 40).to_vec();
        bytes.extend(std::iter::repeat_n(b'a', (MAX_HEADER_BYTES + 4096) as usize));
        let err = list(&bytes, MANY).unwrap_err();
        assert_eq!(err.code, code::UNSAFE_ARCHIVE, "{err:?}");
        assert!(err.text.contains("GNU long name"), "{}", err.text);
    }

    #[test]
    fn too_many_entries_are_refused_or_cut_short() {
        let mut tar = tar::Builder::new(Vec::new());
        for i in 0..5 {
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            tar.append_data(&mut h, format!("f{i}"), &b""[..]).unwrap();
        }
        let bytes = tar.into_inner().unwrap();
        let err = list(&bytes, Limits { max_entries: 3, refuse_more_entries: true }).unwrap_err();
        assert_eq!(err.code, code::UNSAFE_ARCHIVE);
        assert_eq!(list(&bytes, Limits { max_entries: 3, refuse_more_entries: false }).unwrap().len(), 3);
        assert_eq!(list(&bytes, Limits { max_entries: 5, refuse_more_entries: true }).unwrap().len(), 5);
    }
}
