//! A tour of pair RDDs (RDDs of `(key, value)`), with a small shop's data:
//! orders `(customer_id, amount in cents)` and customers
//! `(customer_id, name)`.
//!
//! It shows:
//!
//! - `partition_by(HashPartitioner::new(4))` + `cache()` on both inputs, so
//!   they are hash-partitioned the same way and kept in memory;
//! - `reduce_by_key` (total per customer), which needs no shuffle on input
//!   already partitioned by key;
//! - `aggregate_by_key` (average order per customer, via `(sum, count)`);
//! - `join`, `left_outer_join` and `cogroup`; the join of the two
//!   co-partitioned, cached inputs runs **no** shuffle stage, which the
//!   example checks with `ctx.last_job_metrics()`, and contrasts with the
//!   same join on unpartitioned inputs (two shuffles);
//! - `sort_by_key` (customers ranked by spend) and `lookup` (which scans only
//!   the key's partition when the partitioner is known);
//! - a broadcast variable (a discount table shared by all tasks) and a long
//!   accumulator (counting large orders).
//!
//! Every result is checked against a plain computation on the driver.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example pair_rdd
//! ```
//!
//! `cargo test --example pair_rdd` runs the same `main` as a test.

use std::collections::{BTreeMap, HashMap};

use flint::{HashPartitioner, JobMetrics, Partitioner, SessionContext};

type CustomerId = u32;
/// Money in cents, so that sums are exact.
type Cents = u64;

/// Customers 1..=9. Customer 9 never orders.
const NAMES: [&str; 9] = ["Ada", "Brian", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivo"];

/// Orders of an unknown customer (no row in `customers`): the inner join
/// drops them, the left outer join keeps them with `None`.
const UNKNOWN_CUSTOMER: CustomerId = 42;

/// Orders at or above this amount count as large.
const LARGE_ORDER: Cents = 9_000;

/// 240 deterministic orders over customers 1..=8, plus 3 of the unknown one.
fn make_orders() -> Vec<(CustomerId, Cents)> {
    let mut orders: Vec<(CustomerId, Cents)> = (0..240u64)
        .map(|i| {
            // Uneven spread: low ids order more often.
            let customer = 1 + ((i * 37 + i / 3) % 13 % 8) as CustomerId;
            let amount = 500 + (i * 7_919) % 10_000;
            (customer, amount)
        })
        .collect();
    orders.extend([
        (UNKNOWN_CUSTOMER, 1_250),
        (UNKNOWN_CUSTOMER, 300),
        (UNKNOWN_CUSTOMER, 9_999),
    ]);
    orders
}

fn make_customers() -> Vec<(CustomerId, String)> {
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| (i as CustomerId + 1, name.to_string()))
        .collect()
}

fn dollars(c: Cents) -> String {
    format!("${}.{:02}", c / 100, c % 100)
}

fn metrics(ctx: &SessionContext) -> JobMetrics {
    ctx.last_job_metrics().expect("a job ran")
}

fn describe(what: &str, m: &JobMetrics) {
    println!(
        "  [{what}: {} stage(s), {} shuffle stage(s) in the DAG, {} executed, {} skipped, {} shuffle records]",
        m.stages.len(),
        m.shuffle_stages(),
        m.executed_shuffle_stages(),
        m.skipped_stages(),
        m.shuffle_records_written()
    );
}

fn main() -> flint::Result<()> {
    let ctx = SessionContext::new();
    let orders_data = make_orders();
    let customers_data = make_customers();

    // Reference results computed on the driver.
    let mut expected_totals: BTreeMap<CustomerId, (Cents, u64)> = BTreeMap::new();
    for &(c, a) in &orders_data {
        let e = expected_totals.entry(c).or_default();
        e.0 += a;
        e.1 += 1;
    }
    let names: HashMap<CustomerId, String> = customers_data.iter().cloned().collect();

    // --- Co-partitioned, cached inputs. ---
    let partitioner = HashPartitioner::new(4);
    let orders = ctx
        .parallelize(orders_data.clone(), 3)
        .partition_by(partitioner.clone())
        .cache();
    let customers = ctx
        .parallelize(customers_data.clone(), 2)
        .partition_by(partitioner.clone())
        .cache();
    // Materialize both (one shuffle each) so later jobs read the cache.
    assert_eq!(orders.count()?, orders_data.len() as u64);
    describe("materialize orders", &metrics(&ctx));
    assert_eq!(customers.count()?, customers_data.len() as u64);
    assert_eq!(ctx.cache().cached_partitions(orders.id()), 4);
    assert_eq!(ctx.cache().cached_partitions(customers.id()), 4);
    println!(
        "{} orders and {} customers, both in {} hash partitions, cached",
        orders_data.len(),
        customers_data.len(),
        partitioner.num_partitions()
    );

    // --- reduce_by_key: total spend per customer. ---
    let totals = orders.reduce_by_key(|a, b| a + b);
    let mut total_rows = totals.collect()?;
    let m = metrics(&ctx);
    total_rows.sort();
    println!("\nreduce_by_key — total per customer:");
    for (c, t) in &total_rows {
        println!("  {c:>3} {:>10}", dollars(*t));
    }
    describe("reduce_by_key", &m);
    assert_eq!(
        total_rows,
        expected_totals.iter().map(|(&c, &(t, _))| (c, t)).collect::<Vec<_>>()
    );
    // Already partitioned by key and cached: aggregated in place.
    assert_eq!(m.executed_shuffle_stages(), 0);

    // --- aggregate_by_key: average order per customer. ---
    let averages = orders
        .aggregate_by_key(
            (0 as Cents, 0u64),
            |(sum, n), amount| (sum + amount, n + 1),
            |(s1, n1), (s2, n2)| (s1 + s2, n1 + n2),
        )
        .map_values(|(sum, n)| sum as f64 / n as f64);
    let mut avg_rows = averages.collect()?;
    avg_rows.sort_by_key(|(c, _)| *c);
    println!("\naggregate_by_key — average order:");
    for (c, avg) in &avg_rows {
        println!("  {c:>3} {:>10}", format!("${:.2}", avg / 100.0));
    }
    assert_eq!(avg_rows.len(), expected_totals.len());
    for (c, avg) in &avg_rows {
        let (sum, n) = expected_totals[c];
        assert!((avg - sum as f64 / n as f64).abs() < 1e-9, "average of {c}");
    }

    // --- join of the co-partitioned, cached inputs: no shuffle. ---
    let joined = orders.join(&customers);
    let join_rows = joined.count()?;
    let m = metrics(&ctx);
    println!("\njoin (co-partitioned, cached inputs): {join_rows} rows");
    describe("join", &m);
    let known_orders = orders_data.iter().filter(|(c, _)| names.contains_key(c)).count() as u64;
    assert_eq!(join_rows, known_orders);
    assert_eq!(m.executed_shuffle_stages(), 0, "co-partitioned join must not shuffle");
    assert_eq!(m.shuffle_records_written(), 0);
    // The join keeps the inputs' partitioner.
    assert_eq!(joined.num_partitions(), 4);

    // The same join on inputs without a partitioner shuffles both sides.
    let plain_join = ctx
        .parallelize(orders_data.clone(), 3)
        .join(&ctx.parallelize(customers_data.clone(), 2));
    assert_eq!(plain_join.count()?, known_orders);
    let m = metrics(&ctx);
    println!("join (unpartitioned inputs): same rows");
    describe("join", &m);
    assert_eq!(m.executed_shuffle_stages(), 2);

    // Revenue per customer name, from the join.
    let mut by_name: Vec<(String, Cents)> = joined
        .map(|(_, (amount, name))| (name, amount))
        .reduce_by_key(|a, b| a + b)
        .collect()?;
    by_name.sort();
    assert_eq!(by_name.len(), 8);
    assert_eq!(by_name[0], ("Ada".to_string(), expected_totals[&1].0));

    // --- left_outer_join: orders with the customer's name, if known. ---
    let mut orphans = orders
        .left_outer_join(&customers)
        .filter(|(_, (_, name))| name.is_none())
        .map(|(c, (amount, _))| (c, amount))
        .collect()?;
    orphans.sort();
    println!("\nleft_outer_join — orders without a known customer: {orphans:?}");
    assert_eq!(
        orphans,
        vec![
            (UNKNOWN_CUSTOMER, 300),
            (UNKNOWN_CUSTOMER, 1_250),
            (UNKNOWN_CUSTOMER, 9_999)
        ]
    );
    assert_eq!(metrics(&ctx).executed_shuffle_stages(), 0);

    // --- cogroup: every key of either side with all its values. ---
    let mut groups = orders.cogroup(&customers).collect()?;
    groups.sort_by_key(|(c, _)| *c);
    println!("\ncogroup — orders and name per customer id:");
    for (c, (amounts, name)) in &groups {
        println!("  {c:>3} {:>3} order(s)  {name:?}", amounts.len());
    }
    assert_eq!(groups.len(), 10); // customers 1..=9 and the unknown one
    let ivo = groups.iter().find(|(c, _)| *c == 9).expect("customer 9");
    assert!(ivo.1.0.is_empty() && ivo.1.1 == vec!["Ivo".to_string()]);
    let unknown = groups
        .iter()
        .find(|(c, _)| *c == UNKNOWN_CUSTOMER)
        .expect("customer 42");
    assert_eq!((unknown.1.0.len(), unknown.1.1.len()), (3, 0));

    // --- sort_by_key: customers ranked by total spend, largest first. ---
    let ranked = totals
        .join(&customers)
        .map(|(_, (total, name))| (total, name))
        .sort_by_key(false, 2)?
        .collect()?;
    println!("\nsort_by_key — customers by spend:");
    for (total, name) in &ranked {
        println!("  {name:<6} {:>10}", dollars(*total));
    }
    let mut expected_rank: Vec<(Cents, String)> = expected_totals
        .iter()
        .filter_map(|(c, (t, _))| names.get(c).map(|n| (*t, n.clone())))
        .collect();
    expected_rank.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    assert_eq!(
        ranked.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        expected_rank.iter().map(|(t, _)| *t).collect::<Vec<_>>()
    );

    // --- lookup: with a partitioner, only one partition is scanned. ---
    let mut dana = orders.lookup(&4)?;
    let m = metrics(&ctx);
    dana.sort();
    println!(
        "\nlookup(4) — {} orders of {}, {} task(s) run",
        dana.len(),
        names[&4],
        m.stages.last().map_or(0, |s| s.tasks_succeeded)
    );
    let mut expected_dana: Vec<Cents> = orders_data.iter().filter(|(c, _)| *c == 4).map(|(_, a)| *a).collect();
    expected_dana.sort();
    assert_eq!(dana, expected_dana);
    assert_eq!(m.stages.last().map(|s| s.tasks_succeeded), Some(1));

    // --- Broadcast variable: a discount rate (percent) per customer. ---
    let discounts = ctx.broadcast(HashMap::from([(1 as CustomerId, 10u64), (2, 5), (7, 20)]));
    let d = discounts.clone();
    let discounted: Cents = orders
        .map(move |(c, amount)| amount - amount * d.value().get(&c).copied().unwrap_or(0) / 100)
        .reduce(|a, b| a + b)?
        .unwrap_or(0);
    let expected_discounted: Cents = orders_data
        .iter()
        .map(|(c, a)| a - a * discounts.value().get(c).copied().unwrap_or(0) / 100)
        .sum();
    let gross: Cents = orders_data.iter().map(|(_, a)| a).sum();
    println!(
        "\nbroadcast #{} — revenue after discounts: {} (gross {})",
        discounts.id(),
        dollars(discounted),
        dollars(gross)
    );
    assert_eq!(discounted, expected_discounted);
    assert!(discounted < gross);

    // --- Long accumulator: large orders, counted in an action. ---
    let large = ctx.long_accumulator("large orders");
    let acc = large.clone();
    orders.foreach(move |(_, amount)| {
        if amount >= LARGE_ORDER {
            acc.add(1);
        }
    })?;
    let expected_large = orders_data.iter().filter(|(_, a)| *a >= LARGE_ORDER).count() as i64;
    println!(
        "accumulator '{}' — orders >= {}: {}",
        large.name(),
        dollars(LARGE_ORDER),
        large.value()
    );
    assert_eq!(large.value(), expected_large);
    assert!(expected_large > 0);

    println!("\nall checks passed");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs() {
        super::main().unwrap();
    }
}
