//! The CLI's text tables: every column as wide as its widest cell, each value under its heading.
//!
//! comfy-table does the measuring (characters, not bytes, so "—" and "…" count as one); the style is
//! the plain one of `ls -l` and `ps`: no borders, two spaces between columns, no trailing spaces.

use comfy_table::{presets::NOTHING, CellAlignment};

pub struct Table {
    inner: comfy_table::Table,
    right: Vec<usize>,
    indent: &'static str,
}

impl Table {
    /// A table under `headings`; a heading written `"SIZE>"` makes a right-aligned column (numbers).
    pub fn new(headings: &[&str]) -> Table {
        let mut inner = comfy_table::Table::new();
        inner.load_style(NOTHING);
        let right = headings.iter().enumerate().filter(|(_, h)| h.ends_with('>')).map(|(i, _)| i).collect();
        inner.set_header(headings.iter().map(|h| h.trim_end_matches('>')).collect::<Vec<_>>());
        Table { inner, right, indent: "" }
    }

    /// Every line starts with `indent` (a table inside a block of details).
    pub fn indented(mut self, indent: &'static str) -> Table {
        self.indent = indent;
        self
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        self.inner.add_row(cells.into_iter().map(Into::into).collect::<Vec<String>>());
        self
    }

    pub fn lines(mut self) -> Vec<String> {
        let last = self.inner.column_count().saturating_sub(1);
        for (i, column) in self.inner.column_iter_mut().enumerate() {
            column.set_padding((0, if i == last { 0 } else { 2 }));
            if self.right.contains(&i) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        self.inner.lines().map(|l| format!("{}{}", self.indent, l.trim_end())).collect()
    }

    pub fn print(self) {
        for line in self.lines() {
            println!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_with_numbers_on_the_right() {
        let mut t = Table::new(&["ID>", "NAME", "SIZE>", "NOTE"]);
        t.row(["1", "win-server-2022.iso", "5.4 GiB", ""]);
        t.row(["12", "ks.cfg", "947 B", "a note — with a dash"]);
        assert_eq!(
            t.lines(),
            [
                "ID  NAME                    SIZE  NOTE",
                " 1  win-server-2022.iso  5.4 GiB",
                "12  ks.cfg                 947 B  a note — with a dash",
            ]
        );
    }

    #[test]
    fn an_indented_table() {
        let mut t = Table::new(&["NAME", "STATE"]).indented("  ");
        t.row(["disk-1", "ok"]);
        assert_eq!(t.lines(), ["  NAME    STATE", "  disk-1  ok"]);
    }
}
