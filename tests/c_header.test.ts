// The C header and the TypeScript symbol table agree: every function declared in
// include/axruntime/axruntime.h is in ffi/symbols.ts with the same parameter and result
// types (and nothing else is), extensions (axr_ext_*) are exactly the optional symbols,
// and the header carries every constant name of the vendor's C reference.
// Runs unchanged under `deno test -A` and `bun test`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type NativeType, type SymbolDef, symbols, TENSOR_INFO_STRUCT } from "../ffi/symbols.ts";

const headerPath = fileURLToPath(new URL("../include/axruntime/axruntime.h", import.meta.url));
const header = readFileSync(headerPath, "utf8");
const code = header.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/.*$/gm, " ");

interface Proto {
  result: string;
  params: string[];
}

/** `type name(params);` declarations of axr_ functions (comments removed). */
function prototypes(text: string): Map<string, Proto> {
  const out = new Map<string, Proto>();
  const re = /([A-Za-z_][A-Za-z0-9_ ]*?\**)\s*\b(axr_[a-z0-9_]+)\s*\(([^)]*)\)\s*;/g;
  for (const m of text.matchAll(re)) {
    const params = m[3].trim() === "void" ? [] : m[3].split(",").map((p) => p.trim());
    out.set(m[2], { result: m[1].trim(), params });
  }
  return out;
}

/** The table's types for a C declaration "type name" (a pointer: "pointer" or "buffer"). */
function nativeOf(decl: string): NativeType[] | "struct" {
  const d = decl.replace(/\bconst\b/g, "").replace(/\s+/g, " ").trim();
  if (d.includes("*")) return ["pointer", "buffer"];
  const ty = d.split(" ").slice(0, -1).join(" ");
  switch (ty) {
    case "unsigned":
      return ["u32"];
    case "size_t":
      return ["usize"];
    case "int":
    case "axrResult":
    case "axrLogLevel":
    case "axrBoardType":
      return ["i32"];
    case "double":
      return ["f64"];
    case "void":
      return ["void"];
    case "axr_logger_fn":
      return ["function"];
    case "axrTensorInfo":
      return "struct";
  }
  throw new Error(`no table type for the C declaration '${decl}'`);
}

const table = symbols as Record<string, SymbolDef>;
const protos = prototypes(code);

describe("include/axruntime/axruntime.h and ffi/symbols.ts", () => {
  test("the header declares the functions of the vendor's C reference", () => {
    assert.ok(protos.size >= 31, `only ${protos.size} prototypes parsed`);
    for (
      const f of [
        "axr_api_version",
        "axr_create_context",
        "axr_destroy",
        "axr_last_error_string",
        "axr_list_devices",
        "axr_device_connect",
        "axr_load_model",
        "axr_get_model_input",
        "axr_load_model_instance",
        "axr_run_model_instance",
        "axr_tensor_size",
        "axr_create_properties",
        "axr_list_properties",
      ]
    ) assert.ok(protos.has(f), `${f} is not declared`);
  });

  test("every header function is in the table with the same types, and nothing else is", () => {
    const bound = new Set<string>();
    for (const [key, def] of Object.entries(table)) {
      const name = def.name ?? key;
      bound.add(name);
      const p = protos.get(name);
      assert.ok(p, `ffi/symbols.ts: ${key} is not declared in the header`);
      assert.equal(def.parameters.length, p.params.length, `${key}: parameter count`);
      p.params.forEach((cType, i) => {
        const want = nativeOf(cType);
        assert.ok(
          want !== "struct" && want.includes(def.parameters[i]),
          `${key} parameter ${i} '${cType}': table has ${def.parameters[i]}`,
        );
      });
      const r = nativeOf(p.result + " x");
      if (r === "struct") assert.deepEqual(def.result, TENSOR_INFO_STRUCT, `${key}: result is axrTensorInfo by value`);
      else {assert.ok(
          typeof def.result === "string" && r.includes(def.result),
          `${key}: result '${p.result}', table has ${JSON.stringify(def.result)}`,
        );}
      assert.equal(def.optional === true, name.startsWith("axr_ext_"), `${key}: optional exactly for extensions`);
    }
    for (const name of protos.keys()) {
      assert.ok(bound.has(name), `${name} of the header is missing from ffi/symbols.ts`);
    }
  });

  test("every constant name of the C reference, with its value", () => {
    const results = [
      "AXR_SUCCESS",
      "AXR_ERROR_RUNTIME_ERROR",
      "AXR_ERROR_VALUE_ERROR",
      "AXR_ERROR_INVALID_ARGUMENT",
      "AXR_ERROR_CONNECTION_ERROR",
      "AXR_ERROR_DEVICE_IN_USE",
      "AXR_ERROR_INCOMPATIBLE_DEVICE",
      "AXR_ERROR_INVALID_CONFIGURATION",
      "AXR_ERROR_NOT_IMPLEMENTED",
      "AXR_ERROR_INTERNAL_ERROR",
      "AXR_ERROR_PENDING_ERROR",
      "AXR_ERROR_UNKNOWN_ERROR",
    ];
    const levels = ["TRACE", "LOG", "DEBUG", "INFO", "FIXME", "WARNING", "ERROR"].map((l) => `AXR_LOG_${l}`);
    for (const list of [results, levels]) {
      list.forEach((name, i) => assert.match(code, new RegExp(`\\b${name} = ${i},`), `${name} = ${i}`));
    }
    assert.match(code, /#define AXR_OBJECT\(x\) \(\(axrObject\*\)\(x\)\)/);
    for (const t of ["axrObject", "axrContext", "axrConnection", "axrModel", "axrModelInstance", "axrProperties"]) {
      assert.match(code, new RegExp(`typedef struct ${t} ${t};`), t);
    }
  });

  test("include/axruntime.h forwards to it", () => {
    const fwd = readFileSync(fileURLToPath(new URL("../include/axruntime.h", import.meta.url)), "utf8");
    assert.match(fwd, /#include "axruntime\/axruntime.h"/);
    assert.equal(prototypes(fwd).size, 0);
  });
});
