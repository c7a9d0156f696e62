//! Every integration suite in one test binary, a module each, so that the aws-sdk crates and
//! russh are linked once rather than once per suite. Suites that use the lab share its servers
//! through `common::lab`'s lock.

mod common;

mod alarms_lab;
mod aws_via_bastion;
mod bastion_lab;
mod check_config;
mod checks_lab;
mod dbload;
mod dbload_lab;
mod e2e_tmux;
mod failover_lab;
mod faults_lab;
mod fleet_ops_lab;
mod gates_lab;
mod keys;
mod live_lab;
mod logs;
mod logs_lab;
mod ops_lab;
mod readonly;
mod secrets_lab;
mod security_lab;
mod shapes;
mod snapshots;
mod status;
mod timeline;
mod waf_lab;
