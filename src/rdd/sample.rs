//! Random sampling of RDDs, reproducible from a seed.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Poisson};

use super::narrow::MapPartitionsRdd;
use super::{BoxIter, Data, Rdd};
use crate::error::Result;
use crate::scheduler::run_job;

fn partition_rng(seed: u64, partition: usize) -> SmallRng {
    SmallRng::seed_from_u64(seed ^ (partition as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl<T: Data> Rdd<T> {
    /// A random sample: without replacement each element is kept with
    /// probability `fraction`; with replacement each element appears a
    /// Poisson(`fraction`) number of times. The same seed gives the same
    /// sample.
    ///
    /// ```
    /// use flint::SessionContext;
    /// let ctx = SessionContext::new();
    /// let rdd = ctx.range(0, 10_000, 1, 4);
    /// let n = rdd.sample(false, 0.1, 42).count().unwrap();
    /// assert!(n > 800 && n < 1200);
    /// assert_eq!(n, rdd.sample(false, 0.1, 42).count().unwrap());
    /// ```
    pub fn sample(&self, with_replacement: bool, fraction: f64, seed: u64) -> Rdd<T> {
        let fraction = if fraction.is_finite() { fraction.max(0.0) } else { 0.0 };
        MapPartitionsRdd::create(self, "sample", true, move |split, iter, _| {
            let mut rng = partition_rng(seed, split);
            if !with_replacement {
                let keep = fraction.min(1.0);
                return Ok(Box::new(iter.filter(move |_| rng.random::<f64>() < keep)) as BoxIter<T>);
            }
            if fraction == 0.0 {
                return Ok(Box::new(std::iter::empty()) as BoxIter<T>);
            }
            let poisson = Poisson::new(fraction)
                .map_err(|e| crate::Error::InvalidArgument(format!("sample fraction {fraction}: {e}")))?;
            Ok(Box::new(iter.flat_map(move |x| {
                let times = poisson.sample(&mut rng) as usize;
                std::iter::repeat_n(x, times)
            })) as BoxIter<T>)
        })
    }

    /// Reservoir-samples up to `per_partition` elements of each partition
    /// (one job) and returns `(partition size, sample)` per partition.
    pub(crate) fn sample_partitions(&self, per_partition: usize) -> Result<Vec<(usize, Vec<T>)>> {
        let all: Vec<usize> = (0..self.num_partitions()).collect();
        let per_partition = per_partition.max(1);
        run_job(self.session(), self, &all, "sample", move |tc, iter| {
            let mut rng = partition_rng(0x5A3D_1E5E, tc.partition_id());
            let mut reservoir: Vec<T> = Vec::with_capacity(per_partition);
            let mut seen = 0usize;
            for x in iter {
                if reservoir.len() < per_partition {
                    reservoir.push(x);
                } else {
                    let j = rng.random_range(0..=seen);
                    if j < per_partition {
                        reservoir[j] = x;
                    }
                }
                seen += 1;
            }
            Ok((seen, reservoir))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::SessionContext;

    #[test]
    fn with_replacement_mean() {
        let ctx = SessionContext::new();
        let n = ctx.range(0, 20_000, 1, 4).sample(true, 2.0, 7).count().unwrap();
        assert!((36_000..44_000).contains(&n), "{n}");
    }

    #[test]
    fn sample_keeps_partitioner() {
        let ctx = SessionContext::new();
        let p = ctx
            .parallelize(vec![(1, 1)], 1)
            .partition_by(crate::HashPartitioner::new(2));
        assert!(p.sample(false, 0.5, 1).partitioner().is_some());
    }
}
