//! `indico-substrate`: the local substrate's command line (see [`indico_substrate::cli`]).

fn main() -> std::process::ExitCode {
    indico_substrate::cli::main()
}
