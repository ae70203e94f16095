//! Physical planning and operators (step 4 of the pipeline): logical plans
//! lowered to RDD stages of operators over Arrow record batches.

pub mod expr;
