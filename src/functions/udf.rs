//! User-defined scalar functions: a Rust closure over Arrow arrays with a
//! declared signature. A session registers them by name
//! ([`SessionContext::register_udf`](crate::SessionContext::register_udf)),
//! after which SQL calls them like built-ins and the DataFrame API through
//! [`ScalarUdf::call`]. Arguments are cast to the declared types when the
//! plan is built; the physical expression checks what the closure returns
//! and turns its errors and panics into query errors naming the function.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use crate::error::Result;
use crate::logical::Expr;

/// The closure of a UDF: one array per argument (all of the batch's row
/// count, of the declared argument types) to one array of the same length
/// and of the declared return type.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::ArrayRef;
/// use flint::functions::UdfImpl;
/// let first: UdfImpl = Arc::new(|args: &[ArrayRef]| Ok(Arc::clone(&args[0])));
/// # let _ = first;
/// ```
pub type UdfImpl = Arc<dyn Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync>;

/// A user-defined scalar function. Two UDFs are equal when their name and
/// signature are (plans compare expressions, and a closure has no identity
/// worth comparing).
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, Int64Array};
/// use arrow::datatypes::DataType;
/// use flint::functions::ScalarUdf;
/// use flint::logical::col;
///
/// let double = Arc::new(ScalarUdf::new("double", vec![DataType::Int64], DataType::Int64, |args: &[ArrayRef]| {
///     let a = arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(&args[0]);
///     Ok(Arc::new(a.unary::<_, arrow::datatypes::Int64Type>(|x| x * 2)) as ArrayRef)
/// }));
/// let out = double.invoke(&[Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef]).unwrap();
/// assert_eq!(out.len(), 2);
/// assert_eq!(double.call(vec![col("x")]).to_string(), "double(x)");
/// ```
#[derive(Clone)]
pub struct ScalarUdf {
    name: String,
    arg_types: Vec<DataType>,
    return_type: DataType,
    fun: UdfImpl,
}

impl ScalarUdf {
    /// A UDF named `name` taking `arg_types` and returning `return_type`
    /// (usually made by
    /// [`SessionContext::register_udf`](crate::SessionContext::register_udf),
    /// which also registers it).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::datatypes::DataType;
    /// use flint::functions::ScalarUdf;
    /// let id = ScalarUdf::new("id", vec![DataType::Utf8], DataType::Utf8, |a| Ok(Arc::clone(&a[0])));
    /// assert_eq!(id.name(), "id");
    /// assert_eq!(id.arg_types(), &[DataType::Utf8]);
    /// assert_eq!(id.return_type(), &DataType::Utf8);
    /// ```
    pub fn new(
        name: impl Into<String>,
        arg_types: Vec<DataType>,
        return_type: DataType,
        fun: impl Fn(&[ArrayRef]) -> Result<ArrayRef> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            arg_types,
            return_type,
            fun: Arc::new(fun),
        }
    }

    /// The name it was registered under (see [`ScalarUdf::new`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared argument types (see [`ScalarUdf::new`]).
    pub fn arg_types(&self) -> &[DataType] {
        &self.arg_types
    }

    /// The declared return type (see [`ScalarUdf::new`]).
    pub fn return_type(&self) -> &DataType {
        &self.return_type
    }

    /// Runs the closure as it is (no checks, no panic catching): the
    /// physical expression wraps this with both. See the example of
    /// [`ScalarUdf`].
    pub fn invoke(&self, args: &[ArrayRef]) -> Result<ArrayRef> {
        (self.fun)(args)
    }

    /// A call of this UDF, for the DataFrame API. Arguments are cast to the
    /// declared types when the expression is used in a DataFrame.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::datatypes::DataType;
    /// use flint::functions::ScalarUdf;
    /// use flint::logical::{col, lit};
    /// let f = Arc::new(ScalarUdf::new("f", vec![DataType::Int64, DataType::Utf8], DataType::Utf8, |a| {
    ///     Ok(Arc::clone(&a[1]))
    /// }));
    /// assert_eq!(f.call(vec![col("a"), lit("x")]).to_string(), "f(a, 'x')");
    /// ```
    pub fn call(self: &Arc<Self>, args: Vec<Expr>) -> Expr {
        Expr::ScalarUdf(Arc::clone(self), args)
    }
}

impl fmt::Debug for ScalarUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScalarUdf")
            .field("name", &self.name)
            .field("arg_types", &self.arg_types)
            .field("return_type", &self.return_type)
            .finish_non_exhaustive()
    }
}

impl PartialEq for ScalarUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.arg_types == other.arg_types && self.return_type == other.return_type
    }
}

impl Eq for ScalarUdf {}

impl Hash for ScalarUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.arg_types.hash(state);
        self.return_type.hash(state);
    }
}
