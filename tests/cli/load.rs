//! A bounded load test on loopback: 200 clients poll the status while
//! three officers present and the ZSK operator uploads a KSR. Every poll
//! must be answered; the latencies and the server's peak memory are
//! written to `target/ci-artifacts/load-test.txt` (figures, not asserted:
//! performance targets live in benchmarks).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::ceremony::Ceremony;
use crate::service::{Server, finish};

const CLIENTS: usize = 200;

#[test]
fn two_hundred_pollers_while_officers_present_and_a_ksr_is_uploaded() {
    let ceremony = Ceremony::new("soft", "3");
    let server = Server::start(&ceremony, &["--max-connections", "512"]);
    let url = format!("{}/status", server.url);
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(CLIENTS + 1));
    let pollers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (agent, url, stop, ready) = (
                server.agent(None),
                url.clone(),
                Arc::clone(&stop),
                Arc::clone(&ready),
            );
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut errors = Vec::new();
                ready.wait();
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let started = Instant::now();
                    match agent.get(&url).call() {
                        Ok(mut response) if response.status() == 200 => {
                            let _ = response.body_mut().read_to_vec();
                            latencies.push(started.elapsed());
                        }
                        Ok(response) => errors.push(format!("HTTP {}", response.status())),
                        Err(err) => errors.push(err.to_string()),
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                (latencies, errors)
            })
        })
        .collect();
    ready.wait();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(2));

    let ksr = ceremony.make_ksr(1);
    let id = server.submit(&ksr);
    let admin = server.spawn_confirm(&id, &ceremony.path("skr-1.xml"));
    let presenters: Vec<_> = ["CO-1", "CO-2", "CO-3"]
        .iter()
        .map(|officer| server.spawn_present(officer))
        .collect();
    for child in presenters {
        let run = finish(child);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    let run = finish(admin);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let peak = peak_memory(server.pid());
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for poller in pollers {
        let (mut l, mut e) = poller.join().unwrap();
        latencies.append(&mut l);
        errors.append(&mut e);
    }
    let elapsed = started.elapsed();
    assert!(
        errors.is_empty(),
        "{} failed polls, such as {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(server.status()["ksrs"][0]["state"], "signed");
    latencies.sort_unstable();
    let at = |percent: usize| latencies[(latencies.len() - 1) * percent / 100];
    let report = format!(
        "{CLIENTS} clients polling /status every 100 ms over TLS for {elapsed:.1?} while a KSR was uploaded, confirmed, presented for by 3 officers and signed\n\
         requests: {}, failed: 0\n\
         latency p50 {:.2?}, p99 {:.2?}, max {:.2?}\n\
         server peak memory (VmHWM): {peak}\n",
        latencies.len(),
        at(50),
        at(99),
        latencies[latencies.len() - 1],
    );
    eprint!("{report}");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ci-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("load-test.txt"), report).unwrap();
}

/// The peak resident memory of a process, from Linux's /proc.
fn peak_memory(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .map(|line| line.trim_start_matches("VmHWM:").trim().to_owned())
        .unwrap()
}
