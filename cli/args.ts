/**
 * The one command line parser of `axr`, its subcommands, the compiler and the
 * benchmark runner: `--flag value`, `--flag=value`, a one-letter alias (`-o DIR`),
 * `--flag` / `--no-flag` for booleans, repeatable flags, a fixed set of choices, `--`
 * to end flags, `-h`/`--help` everywhere (it never does work). Unknown flags, missing
 * values and arguments, malformed values throw {@link UsageError} (exit code 2) with a
 * message naming the flag.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/** The kind of value a flag takes. */
export type FlagType = "boolean" | "string" | "number";

/**
 * One flag of a subcommand.
 *
 * @example
 * ```ts
 * const seconds: FlagSpec = { name: "seconds", type: "number", default: 10,
 *   description: "how long to run", valueName: "S" };
 * ```
 */
export interface FlagSpec {
  /** Long name without dashes, kebab-case ("aipu-cores"). */
  name: string;
  /** Value kind; booleans also accept `--no-NAME`. */
  type: FlagType;
  /** Value when the flag is absent. */
  default?: string | number | boolean;
  /** One line for `--help`. */
  description: string;
  /** Placeholder in `--help` ("N", "FILE"). */
  valueName?: string;
  /** For numbers: smallest accepted value (inclusive). */
  min?: number;
  /** For numbers: must be an integer. */
  integer?: boolean;
  /** A one-letter alias without the dash ("o" for `-o`). */
  short?: string;
  /** For strings: may be given several times; all values in {@link ParsedArgs.strings}. */
  multiple?: boolean;
  /** For strings: the accepted values. */
  choices?: readonly string[];
}

/**
 * One subcommand: its flags, positional arguments and help text.
 *
 * @example
 * ```ts
 * const spec: CommandSpec = { name: "devices", summary: "list devices", flags: [], positionals: [] };
 * ```
 */
export interface CommandSpec {
  /** Subcommand name ("run-model"). */
  name: string;
  /** One line shown in `axr --help` and at the top of the subcommand's help. */
  summary: string;
  /** Flags it accepts (besides --help). */
  flags: FlagSpec[];
  /** Positional arguments, in order. */
  positionals: { name: string; description: string; required: boolean }[];
  /** Extra paragraphs printed after the flags (examples, notes). */
  epilog?: string;
  /** Pass unknown flags and all arguments through untouched (delegating commands). */
  passThrough?: boolean;
  /** The program name in the help text (default `axr NAME`). */
  program?: string;
}

/**
 * The result of {@link parseArgs}: typed getters over the flags, the positionals,
 * whether `--help` was asked, and which flags the user gave explicitly.
 *
 * @example
 * ```ts
 * import type { CommandSpec } from "./args.ts";
 * const spec: CommandSpec = {
 *   name: "soak",
 *   summary: "run a model for a while",
 *   flags: [{ name: "seconds", type: "number", description: "how long", default: 10 }],
 *   positionals: [{ name: "model", description: "model.json", required: true }],
 * };
 * const a = parseArgs(spec, ["--seconds", "2", "model.json"]);
 * a.number("seconds"); // 2
 * a.positionals;       // ["model.json"]
 * ```
 */
export class ParsedArgs {
  /** Positional arguments in order. */
  readonly positionals: string[];
  /** True when -h or --help was given. */
  readonly help: boolean;
  /** Arguments after `--`, or every argument for pass-through commands. */
  readonly rest: string[];
  readonly #values: Map<string, string | number | boolean | undefined>;
  readonly #given: Set<string>;
  readonly #lists: Map<string, string[]>;

  /** Built by {@link parseArgs}. */
  constructor(
    values: Map<string, string | number | boolean | undefined>,
    given: Set<string>,
    positionals: string[],
    help: boolean,
    rest: string[],
    lists: Map<string, string[]> = new Map(),
  ) {
    this.#lists = lists;
    this.#values = values;
    this.#given = given;
    this.positionals = positionals;
    this.help = help;
    this.rest = rest;
  }

  /** The value of a number flag, or undefined if absent without default. */
  number(name: string): number | undefined {
    const v = this.#values.get(name);
    return typeof v === "number" ? v : undefined;
  }

  /** The value of a string flag, or undefined if absent without default. */
  string(name: string): string | undefined {
    const v = this.#values.get(name);
    return typeof v === "string" ? v : undefined;
  }

  /** The value of a boolean flag (false if absent without default). */
  boolean(name: string): boolean {
    return this.#values.get(name) === true;
  }

  /** Every value of a repeatable string flag, in order (empty when absent). */
  strings(name: string): string[] {
    return [...(this.#lists.get(name) ?? [])];
  }

  /** True if the user gave the flag (in either form), false if it holds its default. */
  given(name: string): boolean {
    return this.#given.has(name);
  }
}

function parseValue(flag: FlagSpec, raw: string, command: string): string | number {
  if (flag.type === "string") {
    if (flag.choices && !flag.choices.includes(raw)) {
      throw new UsageError(`--${flag.name} ${raw}: use ${flag.choices.join(", ")}`, command);
    }
    return raw;
  }
  const text = raw.trim();
  const n = text === "" ? NaN : Number(text);
  const want = flag.integer ? "an integer" : "a number";
  if (!Number.isFinite(n) || (flag.integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag.name} needs ${want}, got '${raw}'`, command);
  }
  if (flag.min !== undefined && n < flag.min) {
    throw new UsageError(`--${flag.name} must be at least ${flag.min}, got ${raw}`, command);
  }
  return n;
}

/**
 * Parses `argv` (the arguments after the subcommand name) against `spec`.
 * Throws {@link UsageError} for an unknown flag, a missing value, a malformed
 * number, a value given to a boolean, too many or too few positionals.
 * With `--help` nothing else is validated.
 *
 * @example
 * ```ts
 * const spec: CommandSpec = { name: "run-model", summary: "", positionals: [
 *   { name: "MODEL", description: "model.json", required: true }],
 *   flags: [{ name: "double-buffer", type: "boolean", default: true, description: "" }] };
 * parseArgs(spec, ["m.json", "--no-double-buffer"]).boolean("double-buffer"); // false
 * ```
 */
export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const command = spec.name;
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const lists = new Map<string, string[]>();
  const values = new Map<string, string | number | boolean | undefined>();
  for (const f of spec.flags) values.set(f.name, f.default);
  const given = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  let rest: string[] = [];

  if (spec.passThrough) {
    help = argv.length > 0 && (argv[0] === "--help" || argv[0] === "-h");
    return new ParsedArgs(values, given, [], help, argv.slice());
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const short = !arg.startsWith("--") ? byShort.get(arg.slice(1)) : undefined;
    if (!arg.startsWith("--") && !short) {
      if (help) continue;
      throw new UsageError(`unknown flag ${arg}`, command);
    }
    const eq = short ? -1 : arg.indexOf("=");
    let name = short ? short.name : eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let flag = byName.get(name);
    let negated = false;
    if (!flag && name.startsWith("no-")) {
      const base = byName.get(name.slice(3));
      if (base && base.type === "boolean") {
        flag = base;
        negated = true;
        name = base.name;
      }
    }
    if (!flag) {
      if (help) continue; // --help wins over later mistakes
      throw new UsageError(`unknown flag --${name}`, command);
    }
    if (flag.type === "boolean") {
      if (inline !== undefined) {
        if (negated) throw new UsageError(`--no-${name} takes no value`, command);
        if (inline === "true" || inline === "1") values.set(name, true);
        else if (inline === "false" || inline === "0") values.set(name, false);
        else throw new UsageError(`--${name} is a switch (use --${name} or --no-${name}), got '${inline}'`, command);
      } else {
        values.set(name, !negated);
      }
      given.add(name);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= argv.length) {
        throw new UsageError(`--${name} needs a value${flag.valueName ? ` (${flag.valueName})` : ""}`, command);
      }
      raw = argv[++i];
    }
    const value = parseValue(flag, raw, command);
    values.set(name, value);
    if (flag.multiple) lists.set(name, [...(lists.get(name) ?? []), String(value)]);
    given.add(name);
  }

  if (!help) {
    const max = spec.positionals.length;
    if (positionals.length > max) {
      const extra = positionals.slice(max).map((p) => `'${p}'`).join(", ");
      throw new UsageError(`unexpected argument${positionals.length - max > 1 ? "s" : ""} ${extra}`, command);
    }
    const missing = spec.positionals.filter((p, i) => p.required && positionals[i] === undefined);
    if (missing.length) {
      throw new UsageError(`missing ${missing.map((p) => p.name).join(", ")}`, command);
    }
  }
  return new ParsedArgs(values, given, positionals, help, rest, lists);
}

/**
 * The `--help` text of a subcommand.
 *
 * @example
 * ```ts
 * import type { CommandSpec } from "./args.ts";
 * const spec: CommandSpec = {
 *   name: "soak",
 *   summary: "run a model for a while",
 *   flags: [{ name: "seconds", type: "number", description: "how long", default: 10 }],
 *   positionals: [{ name: "model", description: "model.json", required: true }],
 * };
 * console.log(formatHelp(spec));
 * ```
 */
export function formatHelp(spec: CommandSpec): string {
  const usage = [spec.program ?? `axr ${spec.name}`];
  if (spec.flags.length || spec.passThrough) usage.push("[flags]");
  for (const p of spec.positionals) usage.push(p.required ? p.name : `[${p.name}]`);
  const lines = [`${spec.program ?? `axr ${spec.name}`}: ${spec.summary}`, "", `Usage: ${usage.join(" ")}`];
  if (spec.positionals.length) {
    lines.push("", "Arguments:");
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(28)} ${p.description}`);
  }
  lines.push("", "Flags:");
  for (const f of spec.flags) {
    let left = f.type === "boolean"
      ? (f.default === true ? `--[no-]${f.name}` : `--${f.name}`)
      : `--${f.name} ${f.valueName ?? (f.type === "number" ? "N" : "VALUE")}`;
    left = f.short ? `  -${f.short}, ${left}` : `  ${left}`;
    const def = f.default !== undefined && f.type !== "boolean" ? ` (default ${f.default})` : "";
    const onOff = f.type === "boolean" && f.default === true ? " (default on)" : "";
    const choices = f.choices ? ` (${f.choices.join(", ")})` : "";
    const many = f.multiple ? " (repeatable)" : "";
    lines.push(`${left.padEnd(31)} ${f.description}${choices}${def}${onOff}${many}`);
  }
  lines.push(`${"  -h, --help".padEnd(31)} show this help`);
  if (spec.epilog) lines.push("", spec.epilog.trimEnd());
  return lines.join("\n") + "\n";
}
