//! lgc 0.1.x's plugin runtime, modelled on its source (crates/runtime and
//! crates/common/src/plugins/manager.rs of lgc v0.1.3) so a component is compiled,
//! linked and run as lgc 0.1 does: wasmtime 22, async, the pooling allocator with
//! lgc's limits, wasi and wasi-http linked, one store per command with a 60 s epoch
//! deadline set when the plugin is loaded.
//!
//! Usage: lgc-0-1-runtime <component.wasm> <compiled.cwasm | -> [deadline seconds]
//! The compiled code is read from the .cwasm when it exists (the caller vouches for
//! it), else written there: lgc 0.1 keeps compiled code in wasmtime's cache alike.
//! It answers one JSON line for compile and instantiate (`{"ready": true,
//! "compile_seconds": s, "cached": bool}`, or `{"stage": "compile"|"instantiate",
//! "trap": message}`),
//! then one per request line on stdin (`{"call": "create", "args": [config, name,
//! params]}`): `{"ok": value}`, `{"err": message}` for the plugin's own error, or
//! `{"trap": message, "stderr": tail}` when wasmtime failed the call, which stops an
//! lgc command. The deadline (default lgc's 60 s) is there for tests only.
//! lgc discards the guest's stderr; it is kept here to name a Python exception.

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::{json, Value};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

// The contract as the generator ships it for API 0.1 (lgc 0.1.3's plugin.wit and world.wit).
wasmtime::component::bindgen!({ path: "../../../templates/lgc/wit-0.1/wit", world: "plugins", async: true });

const MB: usize = 1 << 20;
/// lgc's DEFAULT_EPOCH_TICK_INTERVAL and its per-store deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);
const DEADLINE_SECONDS: f64 = 60.0;
/// Guest stderr kept (far above what a plugin writes; a full pipe would fail writes).
const STDERR_CAPACITY: usize = 16 * MB;
/// The tail of it sent with a trap.
const STDERR_TAIL: usize = 64 * 1024;

struct State {
    table: ResourceTable,
    ctx: WasiCtx,
    http: WasiHttpCtx,
}

impl WasiView for State {
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
    fn ctx(&mut self) -> &mut WasiCtx {
        &mut self.ctx
    }
}

impl WasiHttpView for State {
    fn ctx(&mut self) -> &mut WasiHttpCtx {
        &mut self.http
    }
    fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

/// lgc's `Config::default()`: the settings below are its, limit for limit.
fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.async_support(true);
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(1_000)
        .max_component_instance_size(50 * MB)
        .max_core_instances_per_component(200)
        .max_tables_per_component(20)
        .table_elements(20_000)
        .max_memories_per_component(20)
        .total_memories(1_000)
        .total_tables(2_000)
        .linear_memory_keep_resident(2 * MB)
        .table_keep_resident(MB / 2)
        .max_memory_size(50 * MB);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config)
}

fn say(line: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// wasmtime's error with its cause chain, without a backtrace of this runtime.
fn described(error: &anyhow::Error) -> String {
    let text = format!("{error:?}");
    text.split("\n\nStack backtrace:").next().unwrap_or_default().to_string()
}

/// `{"ok": v}` for a call's value, `{"trap": e, "stderr": tail}` when wasmtime failed it.
fn answer<T>(call: Result<T>, stderr: &MemoryOutputPipe, ok: impl FnOnce(T) -> Value) -> Value {
    match call {
        Ok(value) => ok(value),
        Err(error) => {
            let text = stderr.contents();
            let tail = String::from_utf8_lossy(&text[text.len().saturating_sub(STDERR_TAIL)..]).into_owned();
            json!({ "trap": described(&error), "stderr": tail })
        }
    }
}

fn plugin_result(result: std::result::Result<Option<String>, String>) -> Value {
    match result {
        Ok(value) => json!({ "ok": value }),
        Err(message) => json!({ "err": message }),
    }
}

fn arg(args: &[Value], index: usize) -> Result<&str> {
    match args.get(index).and_then(Value::as_str) {
        Some(text) => Ok(text),
        None => bail!("argument {index} must be a string"),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() != 3 && argv.len() != 4 {
        bail!("usage: lgc-0-1-runtime <component.wasm> <compiled.cwasm | -> [deadline seconds]");
    }
    let deadline: f64 = argv.get(3).map(|text| text.parse()).transpose()?.unwrap_or(DEADLINE_SECONDS);
    let engine = engine()?;
    let ticker = engine.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(EPOCH_TICK);
        ticker.increment_epoch();
    });

    let started = Instant::now();
    let cwasm = Path::new(&argv[2]);
    // SAFETY: the caller checked the file is the one it had this runtime write.
    let cached = if argv[2] != "-" && cwasm.exists() { unsafe { Component::deserialize_file(&engine, cwasm) }.ok() } else { None };
    let was_cached = cached.is_some();
    let component = match cached.map(Ok).unwrap_or_else(|| Component::from_file(&engine, &argv[1])) {
        Ok(component) => component,
        Err(error) => {
            say(json!({ "stage": "compile", "trap": described(&error) }));
            return Ok(());
        }
    };
    let compile_seconds = started.elapsed().as_secs_f64();
    if !was_cached && argv[2] != "-" {
        let partial = cwasm.with_extension("partial");
        std::fs::write(&partial, component.serialize()?)?;
        std::fs::rename(&partial, cwasm)?;
    }

    let mut linker: Linker<State> = Linker::new(&engine);
    wasmtime_wasi::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::proxy::add_only_http_to_linker(&mut linker)?;
    let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
    let ctx = WasiCtxBuilder::new().stderr(stderr.clone()).build();
    let mut store = Store::new(&engine, State { table: ResourceTable::new(), ctx, http: WasiHttpCtx::new() });
    store.set_epoch_deadline((deadline / EPOCH_TICK.as_secs_f64()).ceil() as u64);
    let plugins = match Plugins::instantiate_async(&mut store, &component, &linker).await {
        Ok((plugins, _)) => plugins,
        Err(error) => {
            say(json!({ "stage": "instantiate", "trap": described(&error), "compile_seconds": compile_seconds }));
            return Ok(());
        }
    };
    say(json!({ "ready": true, "compile_seconds": compile_seconds, "cached": was_cached }));

    let plugin = plugins.logcraft_lgc_plugin();
    for line in std::io::stdin().lock().lines() {
        let request: Value = serde_json::from_str(&line?)?;
        let call = request["call"].as_str().unwrap_or_default();
        let args = request["args"].as_array().cloned().unwrap_or_default();
        let s = &mut store;
        let reply = match call {
            "load" => answer(plugin.call_load(s).await, &stderr, |m| {
                json!({ "ok": { "name": m.name, "version": m.version, "author": m.author, "description": m.description } })
            }),
            "settings" => answer(plugin.call_settings(s).await, &stderr, |text| json!({ "ok": text })),
            "schema" => answer(plugin.call_schema(s).await, &stderr, |text| json!({ "ok": text })),
            "create" | "read" | "update" | "delete" => {
                let (config, name, params) = (arg(&args, 0)?, arg(&args, 1)?, arg(&args, 2)?);
                let result = match call {
                    "create" => plugin.call_create(s, config, name, params).await,
                    "read" => plugin.call_read(s, config, name, params).await,
                    "update" => plugin.call_update(s, config, name, params).await,
                    _ => plugin.call_delete(s, config, name, params).await,
                };
                answer(result, &stderr, plugin_result)
            }
            "ping" => answer(plugin.call_ping(s, arg(&args, 0)?).await, &stderr, |result| match result {
                Ok(alive) => json!({ "ok": alive }),
                Err(message) => json!({ "err": message }),
            }),
            other => bail!("unknown call {other:?}"),
        };
        say(reply);
    }
    Ok(())
}
