//! Record batches: decode every batch and every record, owned and borrowed, and read
//! control records, with a 16 MiB decompression cap.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for batch in rafka_wire::records::decode_batches(bytes::Bytes::copy_from_slice(data)).flatten()
    {
        if let Ok(section) = batch.section_with_limit(16 << 20) {
            section
                .views()
                .flatten()
                .for_each(|v| v.headers().for_each(drop));
        }
        if let Ok(records) = batch.records_with_limit(16 << 20) {
            records.flatten().for_each(|r| drop(r.control()));
        }
    }
});
