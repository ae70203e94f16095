//! Fitting a table to the terminal's width, as DuckDB's shell does: first
//! the widest columns are narrowed (their values cut with `…`) down to a
//! floor, then columns in the middle are left out and shown as one `…`
//! column, keeping the first and last ones.

/// Narrowest a column is cut to before columns are left out.
const MIN_WIDTH: usize = 16;

/// Cost of a column beyond its content: a space each side and a border.
const FRAME: usize = 3;

/// How a table is drawn within a width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The widest a value of each column may be shown.
    pub caps: Vec<usize>,
    /// The columns shown, in order; `None` is the `…` column that stands
    /// for the ones left out.
    pub columns: Vec<Option<usize>>,
}

/// The layout of columns whose content is `widths` wide in a terminal
/// `width` wide (`None`: no limit).
pub fn fit(widths: &[usize], width: Option<usize>) -> Layout {
    let mut caps = widths.to_vec();
    let all = (0..widths.len()).map(Some).collect();
    let Some(width) = width else {
        return Layout { caps, columns: all };
    };
    let total = |caps: &[usize]| 1 + caps.iter().map(|w| w + FRAME).sum::<usize>();
    // Narrow the widest column, one character at a time, down to the floor.
    while total(&caps) > width {
        let Some((i, &w)) = caps.iter().enumerate().max_by_key(|(_, w)| **w) else {
            break;
        };
        if w <= MIN_WIDTH {
            break;
        }
        caps[i] = w - 1;
    }
    if total(&caps) <= width {
        return Layout { caps, columns: all };
    }
    // Keep columns from both ends, alternately, around a `…` column.
    let mut budget = width.saturating_sub(1 + 1 + FRAME);
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let (mut lo, mut hi) = (0, caps.len());
    let mut take_left = true;
    while lo < hi {
        let i = if take_left { lo } else { hi - 1 };
        let cost = caps[i] + FRAME;
        if cost > budget {
            break;
        }
        budget -= cost;
        if take_left {
            left.push(Some(i));
            lo += 1;
        } else {
            right.push(Some(i));
            hi -= 1;
        }
        take_left = !take_left;
    }
    if left.is_empty() && !caps.is_empty() {
        // Not even one column fits: show the first, cut to what is left.
        caps[0] = width.saturating_sub(1 + FRAME + 1 + FRAME).max(1);
        left.push(Some(0));
    }
    let mut columns = left;
    columns.push(None);
    columns.extend(right.into_iter().rev());
    Layout { caps, columns }
}

/// `text` cut to `cap` characters per line, ending with `…` when cut.
pub fn cut(text: &str, cap: usize) -> String {
    text.split('\n')
        .map(|line| {
            if line.chars().count() <= cap {
                line.to_string()
            } else {
                let mut s: String = line.chars().take(cap.saturating_sub(1)).collect();
                s.push('…');
                s
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The display width of `text`: its longest line, in characters.
pub fn width(text: &str) -> usize {
    text.split('\n').map(|l| l.chars().count()).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_that_fits_is_left_alone() {
        let l = fit(&[5, 10], Some(80));
        assert_eq!(l.caps, vec![5, 10]);
        assert_eq!(l.columns, vec![Some(0), Some(1)]);
        assert_eq!(fit(&[500], None).caps, vec![500]);
    }

    #[test]
    fn wide_columns_are_narrowed_first() {
        // 1 + (10 + 3) + (100 + 3) = 117 > 60: the second column gives way.
        let l = fit(&[10, 100], Some(60));
        assert_eq!(l.caps, vec![10, 43]);
        assert_eq!(l.columns.len(), 2);
    }

    #[test]
    fn then_middle_columns_are_left_out() {
        let l = fit(&[10; 12], Some(60));
        assert_eq!(l.columns, vec![Some(0), Some(1), None, Some(10), Some(11)]);
    }

    #[test]
    fn cutting_values() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("ab\nabcdef", 4), "ab\nabc…");
        assert_eq!(width("ab\nabcdé"), 5);
    }
}
