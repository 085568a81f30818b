//! Running clusters of real node processes on loopback.
