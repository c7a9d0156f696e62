//! The DEMO's failover probe: the simulated cluster looked at on the demo's clock every
//! [`CADENCE`], as the live probe would find it (no writer: the write misses), and measured by
//! the same rules. The simulator keeps no rows, so whether writes survived is not checked.

use crate::ops::witness::{self, Beat, CADENCE, Measuring, Outcome, Witness};

use super::cloud::DemoCloud;

pub struct DemoWitness(pub DemoCloud);

impl Witness for DemoWitness {
    fn start(&self) -> Measuring {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let (ready, readied) = tokio::sync::oneshot::channel::<()>();
        let cloud = self.0.clone();
        let task = tokio::spawn(async move {
            let started_at = crate::ops::cloud::Cloud::now(&cloud);
            let started = tokio::time::Instant::now();
            let (mut writes, mut reads) = (Vec::new(), Vec::new());
            let mut ready = Some(ready);
            let mut stopped_ms = None;
            let mut tick = tokio::time::interval(CADENCE);
            let ended = loop {
                tick.tick().await;
                let at_ms = started.elapsed().as_millis() as u64;
                let outcome = |who: Option<&str>| match who {
                    Some(id) => Outcome::Answered { server: id.into() },
                    None => Outcome::Failed {
                        why: "DEMO: the endpoint reaches no server".into(),
                    },
                };
                let (w, r) = {
                    let demo = cloud.current();
                    let (w, r) = demo.cluster.answering();
                    (outcome(w), outcome(r))
                };
                writes.push(Beat { at_ms, outcome: w });
                reads.push(Beat { at_ms, outcome: r });
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                if stopped_ms.is_none() && stopped.try_recv().is_ok() {
                    stopped_ms = Some(at_ms);
                }
                if let Some(why) = witness::ending(&writes, stopped_ms, at_ms) {
                    break format!("DEMO (simulated): {why}");
                }
            };
            Ok(witness::measure(
                (started_at, "DEMO"),
                &writes,
                &reads,
                None,
                ended,
            ))
        });
        Measuring::new(stop, readied, task)
    }
}
