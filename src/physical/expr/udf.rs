//! Calls of user-defined scalar functions: the arguments are evaluated to
//! arrays of the batch's length and handed to the UDF's closure. The
//! closure is user code, so everything it can do wrong becomes a query
//! error naming the UDF: returning an error, panicking, or returning an
//! array of the wrong length or type.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::coerce::cast_expr;
use super::{ColumnarValue, PhysicalExpr, PhysicalExprRef};
use crate::error::{Error, Result};
use crate::functions::ScalarUdf;
use crate::scheduler::panic_message;

/// `udf(args)` over a batch.
#[derive(Debug)]
pub struct UdfExpr {
    udf: Arc<ScalarUdf>,
    args: Vec<PhysicalExprRef>,
}

impl UdfExpr {
    /// A call of `udf`; arguments are cast to its declared types if the
    /// plan did not already.
    pub(crate) fn try_new(udf: Arc<ScalarUdf>, args: Vec<PhysicalExprRef>) -> Result<Self> {
        if args.len() != udf.arg_types().len() {
            crate::plan_err!(
                "{}() takes {} argument(s), got {}",
                udf.name(),
                udf.arg_types().len(),
                args.len()
            );
        }
        let args = args
            .into_iter()
            .zip(udf.arg_types())
            .map(|(a, t)| cast_expr(a, t))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { udf, args })
    }
}

impl fmt::Display for UdfExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.udf.name())?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_str(")")
    }
}

impl PhysicalExpr for UdfExpr {
    fn data_type(&self) -> &DataType {
        self.udf.return_type()
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let rows = batch.num_rows();
        let args = self
            .args
            .iter()
            .map(|a| a.evaluate(batch)?.into_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let name = self.udf.name();
        let out = match catch_unwind(AssertUnwindSafe(|| self.udf.invoke(&args))) {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(Error::Execution(format!("UDF {name}: {e}"))),
            Err(payload) => {
                return Err(Error::Execution(format!(
                    "UDF {name} panicked: {}",
                    panic_message(payload.as_ref())
                )));
            }
        };
        if out.len() != rows {
            return Err(Error::Execution(format!(
                "UDF {name} returned {} values for {rows} rows",
                out.len()
            )));
        }
        if out.data_type() != self.udf.return_type() {
            return Err(Error::Execution(format!(
                "UDF {name} returned {} values but is declared to return {}",
                out.data_type(),
                self.udf.return_type()
            )));
        }
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, AsArray, Int64Array};
    use arrow::datatypes::Int64Type;

    use super::*;
    use crate::logical::{Expr, col};
    use crate::physical::expr::test_util::{batch, eval, eval_err};

    fn call(f: impl Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync + 'static, ret: DataType) -> Expr {
        let udf = Arc::new(ScalarUdf::new("f", vec![DataType::Int64], ret, f));
        Expr::ScalarUdf(udf, vec![col("x")])
    }

    #[test]
    fn calls_the_closure_and_checks_what_it_returns() {
        let b = batch(vec![("x", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)]);
        let double = call(
            |a| Ok(Arc::new(a[0].as_primitive::<Int64Type>().unary::<_, Int64Type>(|x| x * 2)) as ArrayRef),
            DataType::Int64,
        );
        assert_eq!(eval(&double, &b).as_primitive::<Int64Type>().values(), &[2, 4, 6]);

        let failing = call(|_| Err(Error::InvalidArgument("no".into())), DataType::Int64);
        assert_eq!(eval_err(&failing, &b), "UDF f: invalid argument: no");
        let panicking = call(|_| panic!("boom"), DataType::Int64);
        assert_eq!(eval_err(&panicking, &b), "UDF f panicked: boom");
        let short = call(|_| Ok(Arc::new(Int64Array::from(vec![1])) as ArrayRef), DataType::Int64);
        assert_eq!(eval_err(&short, &b), "UDF f returned 1 values for 3 rows");
        let wrong = call(|a| Ok(Arc::clone(&a[0])), DataType::Utf8);
        assert!(eval_err(&wrong, &b).contains("declared to return Utf8"));
    }
}
