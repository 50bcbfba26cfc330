//! `netpac-hostile KIND --count N [--span SECS] --out FILE.pcap`: writes one
//! hostile capture (see the library's documentation for the kinds).

use clap::Parser;
use netpac_hostile::{generate, Kind};
use netpac_runtime::capture::CaptureWriter;
use netpac_runtime::packet::LinkType;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "netpac-hostile",
    about = "Write a hostile capture for netpac's robustness suite"
)]
struct Args {
    /// syn-flood, reassembly-holes, reassembly-holes-reverse, fragment-flood,
    /// dns-compression-bomb, http-pipeline-flood, smtp-pipeline-flood, smtp-mime-nesting
    kind: String,
    /// How many SYNs, segments, fragments, pointers or requests.
    #[arg(long)]
    count: u64,
    /// Capture time the packets are spread over, in seconds.
    #[arg(long, default_value_t = 1.0)]
    span: f64,
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(kind) = Kind::by_name(&args.kind) else {
        eprintln!(
            "netpac-hostile: unknown kind {} (one of: {})",
            args.kind,
            Kind::NAMES.join(", ")
        );
        return ExitCode::from(2);
    };
    let written = CaptureWriter::create(&args.out, LinkType::Ethernet).and_then(|mut w| {
        for (ts, frame) in generate(kind, args.count, args.span) {
            w.write(ts, &frame)?;
        }
        w.finish()
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netpac-hostile: {e}");
            ExitCode::FAILURE
        }
    }
}
