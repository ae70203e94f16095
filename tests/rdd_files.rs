//! Text files in and out: word count, and atomic `save_as_text_file`.

use flint::{FaultInjection, SessionConfig, SessionContext};

#[test]
fn word_count_over_a_text_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("words.txt");
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "the quick brown fox {} jumps\n",
            if i % 2 == 0 { "red" } else { "blue" }
        ));
    }
    std::fs::write(&path, &text).unwrap();
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    let lines = ctx.text_file(path.to_str().unwrap(), 4).unwrap();
    assert!(lines.num_partitions() >= 4);
    let counts = lines
        .flat_map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .map(|w| (w, 1u64))
        .reduce_by_key(|a, b| a + b)
        .collect_as_map()
        .unwrap();
    assert_eq!(counts["the"], 2000);
    assert_eq!(counts["red"], 1000);
    assert_eq!(counts["blue"], 1000);
    assert_eq!(counts.len(), 7);
}

#[test]
fn save_then_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2));
    let rdd = ctx.range(0, 100, 1, 3).map(|x| format!("row {x}"));
    rdd.save_as_text_file(out.to_str().unwrap()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["_SUCCESS", "part-00000", "part-00001", "part-00002"]);
    let back = ctx.text_file(out.to_str().unwrap(), 1).unwrap().collect().unwrap();
    assert_eq!(back, (0..100).map(|x| format!("row {x}")).collect::<Vec<_>>());
    // Writing into an existing directory is refused; nothing is touched.
    let err = rdd.save_as_text_file(out.to_str().unwrap()).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 4);
}

#[test]
fn a_failed_save_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ctx = SessionContext::with_config(SessionConfig::new().with_worker_threads(2).with_max_task_attempts(1));
    let err = ctx
        .range(0, 100, 1, 4)
        .map(|x| if x == 90 { panic!("disk on fire") } else { x })
        .save_as_text_file(out.to_str().unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert!(!out.exists(), "partial output left behind");
}

#[test]
fn retried_save_tasks_write_each_part_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ctx = SessionContext::with_config(
        SessionConfig::new()
            .with_worker_threads(2)
            .with_fault_injection(FaultInjection::new(1)),
    );
    ctx.range(0, 10, 1, 2).save_as_text_file(out.to_str().unwrap()).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("part-00000")).unwrap(),
        "0\n1\n2\n3\n4\n"
    );
    // No leftovers of the failed first attempts.
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}
