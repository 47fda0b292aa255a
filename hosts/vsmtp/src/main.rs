//! Reference vSMTP host: loads a plugin the way vSMTP does and runs a smoke script.
//!
//! Order as in vSMTP: set the hashing seed, create the engine, install the module
//! resolvers rooted at the config directory (scripts such as `services/*.vsl`, then
//! plugins through `DylibModuleResolver`), run the script. The plugin is reached
//! through `<config-dir>/plugins/`; an absolute import under `/etc/vsmtp/` (how vSMTP 3
//! scripts import plugins) is mapped onto the config directory. Each step is printed as one JSON line on stdout
//! so the caller can still report the steps before a crash.

use rhai::module_resolvers::{FileModuleResolver, ModuleResolversCollection};
use rhai::ModuleResolver;
use rhai_dylib::module_resolvers::libloading::DylibModuleResolver;
use std::process::ExitCode;
use std::time::Instant;

/// vSMTP's configuration directory, which vSMTP 3 scripts import plugins from by absolute path.
const ETC_VSMTP: &str = "/etc/vsmtp/";

/// Resolves imports as `inner` does, with `/etc/vsmtp/` mapped onto the config directory.
struct EtcVsmtp<R> {
    config_dir: std::path::PathBuf,
    inner: R,
}

impl<R: ModuleResolver> ModuleResolver for EtcVsmtp<R> {
    fn resolve(
        &self,
        engine: &rhai::Engine,
        source: Option<&str>,
        path: &str,
        pos: rhai::Position,
    ) -> Result<rhai::Shared<rhai::Module>, Box<rhai::EvalAltResult>> {
        match path.strip_prefix(ETC_VSMTP) {
            Some(rest) => {
                let mapped = self.config_dir.join(rest);
                self.inner
                    .resolve(engine, source, &mapped.to_string_lossy(), pos)
            }
            None => self.inner.resolve(engine, source, path, pos),
        }
    }
}

struct Args {
    seed: [u64; 4],
    config_dir: std::path::PathBuf,
    import: String,
    script: Option<std::path::PathBuf>,
    script_extension: String,
}

fn parse_args() -> Result<Args, String> {
    let mut seed = None;
    let mut config_dir = None;
    let mut import = None;
    let mut script = None;
    let mut script_extension = "rhai".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seed" => seed = Some(parse_seed(&value)?),
            "--config-dir" => config_dir = Some(value.into()),
            "--import" => import = Some(value),
            "--script" => script = Some(value.into()),
            "--script-ext" => script_extension = value,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(Args {
        seed: seed.ok_or("--seed is required")?,
        config_dir: config_dir.ok_or("--config-dir is required")?,
        import: import.ok_or("--import is required")?,
        script,
        script_extension,
    })
}

fn parse_seed(text: &str) -> Result<[u64; 4], String> {
    let parts: Vec<u64> = text
        .split(',')
        .map(|p| p.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--seed: {e}"))?;
    parts
        .try_into()
        .map_err(|_| "--seed needs four comma-separated u64".to_string())
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs one step, prints its JSON line, and returns its result.
fn step<T>(name: &str, run: impl FnOnce() -> Result<(T, String), String>) -> Result<T, ()> {
    let started = Instant::now();
    let outcome = run();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let (ok, detail) = match &outcome {
        Ok((_, detail)) => (true, detail.as_str()),
        Err(detail) => (false, detail.as_str()),
    };
    println!(
        "{{\"name\":{},\"ok\":{ok},\"ms\":{ms:.3},\"detail\":{}}}",
        json_string(name),
        json_string(detail)
    );
    outcome.map(|(value, _)| value).map_err(|_| ())
}

fn run(args: &Args) -> Result<(), ()> {
    step("set hashing seed", || {
        // Deprecated name since rhai 1.17, but present in every profile's rhai.
        #[allow(deprecated)]
        match rhai::config::hashing::set_ahash_seed(Some(args.seed)) {
            Ok(()) => Ok(((), format!("{:?}", args.seed))),
            Err(existing) => Err(format!("seed already set to {existing:?}")),
        }
    })?;
    let engine = step("create engine", || {
        let mut resolvers = ModuleResolversCollection::new();
        resolvers.push(FileModuleResolver::new_with_path_and_extension(
            &args.config_dir,
            &args.script_extension,
        ));
        resolvers.push(DylibModuleResolver::with_path(&args.config_dir));
        let mut engine = rhai::Engine::new();
        engine.set_module_resolver(EtcVsmtp {
            config_dir: args.config_dir.clone(),
            inner: resolvers,
        });
        engine.on_print(|text| eprintln!("[script] {text}"));
        Ok((engine, format!("resolvers rooted at {}", args.config_dir.display())))
    })?;
    // Loaded once here and again by the script's `import`: a plugin must survive
    // its entry point being called twice (the seed is then already set).
    step("load plugin", || {
        let module = DylibModuleResolver::with_path(&args.config_dir)
            .resolve(&engine, None, &args.import, rhai::Position::NONE)
            .map_err(|e| format!("{}: {e}", args.import))?;
        Ok((
            (),
            format!("{} ({} functions)", args.import, module.count().1),
        ))
    })?;
    let Some(path) = &args.script else {
        return Ok(());
    };
    let script = step("read smoke script", || {
        std::fs::read_to_string(path)
            .map(|text| (text, path.display().to_string()))
            .map_err(|e| format!("{}: {e}", path.display()))
    })?;
    step("run smoke script", || {
        engine
            .run(&script)
            .map(|()| ((), "all checks passed".to_string()))
            .map_err(|e| e.to_string())
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("vsmtp-ref-host: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}
