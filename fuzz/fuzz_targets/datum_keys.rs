#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nacos_raft_fuzz::run(
    nacos_raft_fuzz::Target::DatumKeys,
    data
));
