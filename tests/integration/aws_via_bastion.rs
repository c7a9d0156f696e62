//! `aws_via_bastion`: the live source's AWS calls made as channels through the bastion session,
//! against the lab's emulators and its real OpenSSH bastion (whose log, at DEBUG1, shows every
//! channel it forwards). `lab/test` starts the lab; by hand: `eval "$(lab/up)"`.

use crate::common;

use common::lab::{self, port, state};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use qpconsole::bastion::aws_http::http_client;
use qpconsole::bastion::service::{self, BastionHandle};
use qpconsole::bastion::{Prompter, Report};
use qpconsole::config::EstateConfig;
use qpconsole::source::aws::LiveEstate;

/// The lab's estate, with its AWS calls through the bastion.
fn estate() -> EstateConfig {
    let mut cfg = lab::config().estates["qualitypost"].clone();
    cfg.aws_via_bastion = true;
    cfg
}

fn seed(state: &Path) -> Value {
    let seed = std::fs::read_to_string(state.join("seed.json"))
        .unwrap_or_else(|e| panic!("no seed in {}: {e}; run lab/up again", state.display()));
    serde_json::from_str(&seed).unwrap()
}

/// The runtime the console's own commands run on.
fn rt() -> tokio::runtime::Runtime {
    qpconsole::cli::runtime().unwrap()
}

/// The estate's bastion, started without an agent (the lab's ssh config names the key) and
/// without anyone to ask. Must run inside the runtime.
fn bastion(cfg: &EstateConfig) -> BastionHandle {
    let target = cfg.bastion.clone().expect("the lab estate has a bastion");
    let (route, mut settings) = service::prepare(cfg, &target).unwrap();
    settings.credentials.agent = None;
    let emit = Box::new(|_: Report| true);
    service::spawn(cfg, settings, route, Prompter::none(), emit).unwrap()
}

/// The bastion sshd's log from `from` on, as it is once it holds every line in `wanted` or
/// after a few seconds.
fn log_since(log: &Path, from: u64, wanted: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut file = std::fs::File::open(log).unwrap();
        file.seek(SeekFrom::Start(from)).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if wanted.iter().all(|w| text.contains(w.as_str())) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_aws_calls_go_through_the_bastion_as_forwards() {
    let _lab = common::lab::shared();
    let state = state();
    let log = state.join("sshd-bastion.log");
    let from = std::fs::metadata(&log).unwrap().len();
    let cfg = estate();
    let rt = rt();
    let (estate, calls) = rt.block_on(async {
        let handle = bastion(&cfg);
        let http = http_client(handle.link().clone());
        let mut live = LiveEstate::connect_with("qualitypost", &cfg, Some(http)).await;
        let calls = live.refresh(true, true).await;
        (live.estate(), calls)
    });

    let aurora = &seed(&state)["aurora"];
    let cluster = estate.cluster.data.as_ref().unwrap_or_else(|| {
        panic!(
            "no cluster through the bastion: {:?}",
            estate.cluster.last_error
        )
    });
    assert_eq!(cluster.id, aurora["cluster_id"]);
    let writer = cluster.writer().map(|m| m.id.as_str());
    assert_eq!(writer, aurora["writer"].as_str());
    assert!(
        estate.phoenix.data.is_some(),
        "{:?}",
        estate.phoenix.last_error
    );
    assert!(
        calls.keys().any(|k| k.ends_with(":DescribeDBClusters")),
        "{calls:?}"
    );

    // moto serves RDS, EC2 and the rest; ministack CloudWatch and Backup: both were reached
    // as channels the bastion opened.
    let wanted: Vec<String> = [
        port("QPCONSOLE_LAB_MOTO_PORT", 27101),
        port("QPCONSOLE_LAB_MINISTACK_PORT", 27102),
    ]
    .iter()
    .map(|p| format!("target 127.0.0.1 port {p}\n"))
    .collect();
    let appended = log_since(&log, from, &wanted);
    for w in &wanted {
        let seen = appended.lines().any(|l| {
            l.contains("server_request_direct_tcpip: originator")
                && format!("{l}\n").ends_with(w.as_str())
        });
        assert!(
            seen,
            "the bastion's log shows no forward to `{}` since the test started:\n{appended}",
            w.trim()
        );
    }
}

#[test]
fn a_bastion_that_cannot_be_reached_is_named_in_the_error_within_a_bounded_time() {
    let _lab = common::lab::shared();
    let mut cfg = estate();
    // A port nothing listens on: bound, then let go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cfg.bastion = Some(format!("root@127.0.0.1:{closed}"));
    let rt = rt();
    let started = Instant::now();
    let estate = rt.block_on(async {
        let handle = bastion(&cfg);
        let http = http_client(handle.link().clone());
        let refreshed = async {
            let mut live = LiveEstate::connect_with("qualitypost", &cfg, Some(http)).await;
            live.refresh(true, false).await;
            live.estate()
        };
        tokio::time::timeout(Duration::from_secs(90), refreshed)
            .await
            .expect("the refresh hung with the bastion unreachable")
    });
    let took = started.elapsed();
    assert!(took < Duration::from_secs(60), "took {took:?}");

    assert!(estate.cluster.data.is_none());
    let error = estate
        .cluster
        .last_error
        .as_ref()
        .expect("the cluster area says why it has no data")
        .message
        .clone();
    assert!(error.contains("through the bastion"), "{error}");
    assert!(error.contains("bastion session is not up"), "{error}");
    for area in [&estate.phoenix.last_error, &estate.waf.last_error] {
        let message = &area.as_ref().expect("every area failed").message;
        assert!(message.contains("bastion"), "{message}");
    }
}
