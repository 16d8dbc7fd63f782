//! Decisions: the classical detector, the DT-DDNN cascade (tract) and the alert state
//! machine.

pub mod alert;
pub mod classic;
pub mod dnn;
