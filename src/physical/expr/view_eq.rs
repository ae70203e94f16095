//! `=`, `<>` and `IN` between a string-view column and constants, decided
//! on the 16-byte views.
//!
//! Arrow's view comparison takes several branches per row and calls
//! `memcmp` for every candidate longer than 12 bytes; on TPC-H's
//! `l_shipinstruct = 'DELIVER IN PERSON'` that was most of q19's filter.
//! Here a constant of up to 12 bytes is a whole view, so a row matches when
//! its view, masked to the constant's length, is equal: one branch-free
//! comparison. A longer constant first compares the length and 4-byte
//! prefix kept in the view; only rows passing that compare their bytes, and
//! the position of the last match is remembered: a column decoded from a
//! Parquet dictionary points every equal value at the same bytes.

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::buffer::{BooleanBuffer, Buffer};
use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

/// A constant compared with views.
enum Target {
    /// Up to 12 bytes: the view it would have, and the mask of the bits
    /// that view uses (the length and the value's bytes). Arrow keeps the
    /// bytes past a short value zero; the mask makes that not matter.
    Inline { view: u128, mask: u128 },
    /// Longer: the low 64 bits of its view (length and prefix), its bytes,
    /// and the buffer position (high 64 bits of a view) last found equal.
    Long {
        head: u64,
        bytes: Vec<u8>,
        last: Option<u64>,
    },
}

impl Target {
    fn new(bytes: &[u8]) -> Option<Self> {
        let len = u32::try_from(bytes.len()).ok()?;
        if len <= 12 {
            let mut raw = [0u8; 16];
            raw[..4].copy_from_slice(&len.to_le_bytes());
            raw[4..4 + bytes.len()].copy_from_slice(bytes);
            let mask = if len == 12 {
                u128::MAX
            } else {
                (1u128 << (32 + 8 * len)) - 1
            };
            Some(Target::Inline {
                view: u128::from_le_bytes(raw),
                mask,
            })
        } else {
            let mut head = [0u8; 8];
            head[..4].copy_from_slice(&len.to_le_bytes());
            head[4..].copy_from_slice(&bytes[..4]);
            Some(Target::Long {
                head: u64::from_le_bytes(head),
                bytes: bytes.to_vec(),
                last: None,
            })
        }
    }

    #[inline(always)]
    fn matches(&mut self, view: u128, buffers: &[Buffer]) -> bool {
        match self {
            Target::Inline { view: t, mask } => view & *mask == *t,
            Target::Long { head, bytes, last } => {
                if view as u64 != *head {
                    return false;
                }
                let at = (view >> 64) as u64;
                if *last == Some(at) {
                    return true;
                }
                let (buffer, offset) = ((at as u32) as usize, (at >> 32) as usize);
                let found = buffers
                    .get(buffer)
                    .and_then(|b| b.as_slice().get(offset..offset + bytes.len()))
                    .is_some_and(|s| s == bytes.as_slice());
                if found {
                    *last = Some(at);
                }
                found
            }
        }
    }
}

/// The bytes of a non-NULL string or binary constant.
pub(crate) fn constant_bytes(value: &ScalarValue) -> Option<&[u8]> {
    use ScalarValue::*;
    match value {
        Utf8(Some(s)) | Utf8View(Some(s)) | LargeUtf8(Some(s)) => Some(s.as_bytes()),
        Binary(Some(b)) | BinaryView(Some(b)) | LargeBinary(Some(b)) => Some(b),
        _ => None,
    }
}

/// Whether each row of a `Utf8View` or `BinaryView` array equals one of
/// `constants` (NULL where the row is NULL); `None` for other arrays, or
/// for no constants.
pub(crate) fn views_in(array: &dyn Array, constants: &[&[u8]]) -> Option<BooleanArray> {
    let (views, buffers, nulls) = match array.data_type() {
        DataType::Utf8View => {
            let a = array.as_string_view();
            (a.views(), a.data_buffers(), a.nulls())
        }
        DataType::BinaryView => {
            let a = array.as_binary_view();
            (a.views(), a.data_buffers(), a.nulls())
        }
        _ => return None,
    };
    let mut targets = constants.iter().map(|c| Target::new(c)).collect::<Option<Vec<_>>>()?;
    let values = match targets.as_mut_slice() {
        [] => return None,
        [one] => BooleanBuffer::collect_bool(views.len(), |i| one.matches(views[i], buffers)),
        many => BooleanBuffer::collect_bool(views.len(), |i| {
            many.iter_mut().fold(false, |any, t| any | t.matches(views[i], buffers))
        }),
    };
    Some(BooleanArray::new(values, nulls.cloned()))
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, BinaryViewArray, StringArray, StringViewArray};
    use arrow::compute::kernels::cmp;

    use super::*;

    fn strings() -> StringViewArray {
        StringViewArray::from(vec![
            Some("AIR"),
            Some("AIR REG"),
            None,
            Some(""),
            Some("twelve bytes"),
            Some("DELIVER IN PERSON"),
            Some("DELIVER IN PERSONS"),
            Some("DELIVER IN PERSON"),
            Some("DELIVER BY HAND!!"),
            Some("AI"),
        ])
    }

    /// Arrow's `eq` OR-ed over the constants, as the reference.
    fn reference(array: &StringViewArray, constants: &[&str]) -> BooleanArray {
        let mut out = BooleanArray::from(vec![false; array.len()]);
        for c in constants {
            let scalar = StringViewArray::new_scalar(*c);
            out = arrow::compute::or(&out, &cmp::eq(array, &scalar).unwrap()).unwrap();
        }
        out
    }

    #[test]
    fn matches_arrow_for_short_long_and_several_constants() {
        let a = strings();
        for constants in [
            vec!["AIR"],
            vec![""],
            vec!["twelve bytes"],
            vec!["DELIVER IN PERSON"],
            vec!["DELIVER IN PERSONS", "AIR REG", "AI"],
            vec!["nothing"],
        ] {
            let bytes: Vec<&[u8]> = constants.iter().map(|c| c.as_bytes()).collect();
            let got = views_in(&a, &bytes).unwrap();
            assert_eq!(got, reference(&a, &constants), "{constants:?}");
        }
    }

    #[test]
    fn binary_views_and_other_types() {
        let b = BinaryViewArray::from(vec![&b"\x00\x01"[..], b"long binary value here"]);
        let got = views_in(&b, &[b"long binary value here"]).unwrap();
        assert_eq!(got, BooleanArray::from(vec![false, true]));
        let plain: ArrayRef = std::sync::Arc::new(StringArray::from(vec!["a"]));
        assert!(views_in(plain.as_ref(), &[b"a"]).is_none());
        assert!(views_in(&strings(), &[]).is_none());
    }
}
