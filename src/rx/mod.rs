//! The receiver: front end, cell search, SSB tracking and grid extraction.

pub mod pss_search;
pub mod raster;
pub mod receiver;
pub mod ring;
pub mod ssb;
